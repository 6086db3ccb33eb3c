"""item versions: a corrected re-send replaces the piece and keeps what was there before

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "itemversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=True),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("drafters", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("first_reviewer", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("second_reviewer", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("photo_count", sa.Integer(), nullable=False),
        sa.Column("body_chars", sa.Integer(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["message_pk"], ["message.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "version"),
    )
    with op.batch_alter_table("itemversion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_itemversion_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_itemversion_content_hash"), ["content_hash"], unique=False)
    # Every item recorded before versions were kept is its own first version.
    op.execute(
        "INSERT INTO itemversion (item_id, version, received_at, title, drafters, first_reviewer, second_reviewer,"
        " photo_count, body_chars, content_hash) SELECT id, 1, received_at, title, '', first_reviewer,"
        " second_reviewer, photo_count, body_chars, content_hash FROM item"
    )


def downgrade() -> None:
    with op.batch_alter_table("itemversion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_itemversion_content_hash"))
        batch_op.drop_index(batch_op.f("ix_itemversion_item_id"))
    op.drop_table("itemversion")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_column("version")
