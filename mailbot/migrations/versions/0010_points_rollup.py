"""points roll-up: each item's ledger lines, the items to score again, the point table they used

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

No rows are copied here: with no PointsState row, the first reader scores every item once.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("itempoints",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("item_id", sa.Integer(), nullable=False),
    sa.Column("unit_id", sa.Integer(), nullable=False),
    sa.Column("person", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column("on", sa.Date(), nullable=False),
    sa.Column("points", sa.Integer(), nullable=False),
    sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("itempoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_itempoints_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_itempoints_on"), ["on"], unique=False)
        batch_op.create_index(batch_op.f("ix_itempoints_unit_id"), ["unit_id"], unique=False)

    op.create_table("pointsstale",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("item_id", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("pointsstale", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pointsstale_item_id"), ["item_id"], unique=False)

    op.create_table("pointsstate",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("rules", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )


def downgrade() -> None:
    op.drop_table("pointsstate")
    with op.batch_alter_table("pointsstale", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pointsstale_item_id"))

    op.drop_table("pointsstale")
    with op.batch_alter_table("itempoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_itempoints_unit_id"))
        batch_op.drop_index(batch_op.f("ix_itempoints_on"))
        batch_op.drop_index(batch_op.f("ix_itempoints_item_id"))

    op.drop_table("itempoints")
