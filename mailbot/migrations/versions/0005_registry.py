"""the registry as the office keeps it: liaisons without an address, and first mail awaiting confirmation

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Annex 4 as issued has no email column: a liaison is registered first, the address recorded on confirmation.
    with op.batch_alter_table("liaison", schema=None) as batch_op:
        batch_op.alter_column("email", existing_type=sqlmodel.sql.sqltypes.AutoString(), nullable=True)
    op.create_table(
        "pendingliaison",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("liaison_id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["liaison_id"], ["liaison.id"]),
        sa.ForeignKeyConstraint(["message_pk"], ["message.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pendingliaison", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pendingliaison_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_pendingliaison_liaison_id"), ["liaison_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pendingliaison_message_pk"), ["message_pk"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pendingliaison", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pendingliaison_message_pk"))
        batch_op.drop_index(batch_op.f("ix_pendingliaison_liaison_id"))
        batch_op.drop_index(batch_op.f("ix_pendingliaison_email"))
    op.drop_table("pendingliaison")
    with op.batch_alter_table("liaison", schema=None) as batch_op:
        batch_op.alter_column("email", existing_type=sqlmodel.sql.sqltypes.AutoString(), nullable=False)
