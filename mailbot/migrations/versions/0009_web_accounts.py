"""accounts and audit trail of the office's register in a browser

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("webaccount",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("generation", sa.Integer(), nullable=False),
    sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("webaccount", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webaccount_name"), ["name"], unique=True)

    op.create_table("auditentry",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("account", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("client", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("target", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("detail", sa.Text(), server_default="", nullable=False),
    sa.Column("ok", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auditentry_account"), ["account"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditentry_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditentry_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditentry_client"), ["client"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditentry_client"))
        batch_op.drop_index(batch_op.f("ix_auditentry_at"))
        batch_op.drop_index(batch_op.f("ix_auditentry_action"))
        batch_op.drop_index(batch_op.f("ix_auditentry_account"))

    op.drop_table("auditentry")
    with op.batch_alter_table("webaccount", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webaccount_name"))

    op.drop_table("webaccount")
