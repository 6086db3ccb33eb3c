"""points roll-up: an index a bulletin's day sums are read from alone

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("itempoints", schema=None) as batch_op:
        batch_op.create_index("ix_itempoints_day_sums", ["on", "unit_id", "source", "points"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("itempoints", schema=None) as batch_op:
        batch_op.drop_index("ix_itempoints_day_sums")
