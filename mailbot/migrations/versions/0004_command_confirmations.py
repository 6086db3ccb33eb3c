"""office commands wait for a one-time code; analysis attempts are counted per message

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commandconfirmation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("admin", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("item_number", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("message_pk", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("used_by_pk", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["message_pk"], ["message.id"]),
        sa.ForeignKeyConstraint(["used_by_pk"], ["message.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("commandconfirmation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commandconfirmation_admin"), ["admin"], unique=False)
        batch_op.create_index(batch_op.f("ix_commandconfirmation_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_commandconfirmation_message_pk"), ["message_pk"], unique=False)
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("analysis_failures", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("analysis_failures")
    with op.batch_alter_table("commandconfirmation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commandconfirmation_message_pk"))
        batch_op.drop_index(batch_op.f("ix_commandconfirmation_code"))
        batch_op.drop_index(batch_op.f("ix_commandconfirmation_admin"))
    op.drop_table("commandconfirmation")
