"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("solicitation",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("units", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("deadline", sa.Date(), nullable=False),
    sa.Column("by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_table("unit",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("aliases", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_name"), ["name"], unique=True)

    op.create_table("deduction",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("unit_id", sa.Integer(), nullable=False),
    sa.Column("person", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("points", sa.Float(), nullable=False),
    sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("on", sa.Date(), nullable=False),
    sa.Column("by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("deduction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deduction_unit_id"), ["unit_id"], unique=False)

    op.create_table("liaison",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("unit_id", sa.Integer(), nullable=False),
    sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("wechat", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("liaison", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_liaison_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_liaison_unit_id"), ["unit_id"], unique=False)

    op.create_table("item",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("number", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("year", sa.Integer(), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("unit_id", sa.Integer(), nullable=False),
    sa.Column("liaison_id", sa.Integer(), nullable=True),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("body_chars", sa.Integer(), nullable=False),
    sa.Column("photo_count", sa.Integer(), nullable=False),
    sa.Column("first_reviewer", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("second_reviewer", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("points", sa.Float(), nullable=False),
    sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("solicitation_id", sa.Integer(), nullable=True),
    sa.Column("grade", sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(["liaison_id"], ["liaison.id"], ),
    sa.ForeignKeyConstraint(["solicitation_id"], ["solicitation.id"], ),
    sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("year", "seq")
    )
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_content_hash"), ["content_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_item_number"), ["number"], unique=True)
        batch_op.create_index(batch_op.f("ix_item_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_item_solicitation_id"), ["solicitation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_item_unit_id"), ["unit_id"], unique=False)

    op.create_table("adoption",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("item_id", sa.Integer(), nullable=False),
    sa.Column("level", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("publication", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("on", sa.Date(), nullable=False),
    sa.Column("by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["item_id"], ["item.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("item_id", "level")
    )
    with op.batch_alter_table("adoption", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adoption_item_id"), ["item_id"], unique=False)

    op.create_table("author",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("item_id", sa.Integer(), nullable=False),
    sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("unit_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("unit_id", sa.Integer(), nullable=False),
    sa.Column("share", sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(["item_id"], ["item.id"], ),
    sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("author", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_author_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_author_unit_id"), ["unit_id"], unique=False)

    op.create_table("message",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("mailbox", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("folder", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("uidvalidity", sa.Integer(), nullable=False),
    sa.Column("uid", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("raw_path", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("verdict", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("reasons", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("problems", sa.Text(), server_default="", nullable=False),
    sa.Column("unit_id", sa.Integer(), nullable=True),
    sa.Column("liaison_id", sa.Integer(), nullable=True),
    sa.Column("item_id", sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(["item_id"], ["item.id"], ),
    sa.ForeignKeyConstraint(["liaison_id"], ["liaison.id"], ),
    sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("mailbox", "folder", "uidvalidity", "uid")
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_mailbox"), ["mailbox"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_sender"), ["sender"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_unit_id"), ["unit_id"], unique=False)

    op.create_table("review",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("item_id", sa.Integer(), nullable=False),
    sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["item_id"], ["item.id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_item_id"), ["item_id"], unique=False)

    op.create_table("outbox",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("message_pk", sa.Integer(), nullable=True),
    sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("recipients", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("subject", sa.Text(), nullable=False),
    sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("raw", sa.LargeBinary(), nullable=False),
    sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(["message_pk"], ["message.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("message_id")
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_message_pk"), ["message_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_next_attempt_at"), ["next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_state"), ["state"], unique=False)

    op.create_table("storedfile",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("message_pk", sa.Integer(), nullable=False),
    sa.Column("path", sa.Text(), nullable=False),
    sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["message_pk"], ["message.id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("storedfile", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_storedfile_message_pk"), ["message_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_storedfile_sha256"), ["sha256"], unique=False)

    op.create_table("digestrun",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("period", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("outbox_id", sa.Integer(), nullable=True),
    sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("kind", "period")
    )
    op.create_table("reminder",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("unit_id", sa.Integer(), nullable=False),
    sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("period", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column("submitted", sa.Integer(), nullable=False),
    sa.Column("due", sa.Integer(), nullable=False),
    sa.Column("outbox_id", sa.Integer(), nullable=True),
    sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], ),
    sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("unit_id", "kind", "period")
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_unit_id"), ["unit_id"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_unit_id"))

    op.drop_table("reminder")
    op.drop_table("digestrun")
    with op.batch_alter_table("storedfile", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_storedfile_sha256"))
        batch_op.drop_index(batch_op.f("ix_storedfile_message_pk"))

    op.drop_table("storedfile")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_state"))
        batch_op.drop_index(batch_op.f("ix_outbox_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_message_pk"))

    op.drop_table("outbox")
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_item_id"))

    op.drop_table("review")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_unit_id"))
        batch_op.drop_index(batch_op.f("ix_message_sha256"))
        batch_op.drop_index(batch_op.f("ix_message_sender"))
        batch_op.drop_index(batch_op.f("ix_message_received_at"))
        batch_op.drop_index(batch_op.f("ix_message_message_id"))
        batch_op.drop_index(batch_op.f("ix_message_mailbox"))

    op.drop_table("message")
    with op.batch_alter_table("author", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_author_unit_id"))
        batch_op.drop_index(batch_op.f("ix_author_item_id"))

    op.drop_table("author")
    with op.batch_alter_table("adoption", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adoption_item_id"))

    op.drop_table("adoption")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_unit_id"))
        batch_op.drop_index(batch_op.f("ix_item_solicitation_id"))
        batch_op.drop_index(batch_op.f("ix_item_received_at"))
        batch_op.drop_index(batch_op.f("ix_item_number"))
        batch_op.drop_index(batch_op.f("ix_item_content_hash"))

    op.drop_table("item")
    with op.batch_alter_table("liaison", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_liaison_unit_id"))
        batch_op.drop_index(batch_op.f("ix_liaison_email"))

    op.drop_table("liaison")
    with op.batch_alter_table("deduction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deduction_unit_id"))

    op.drop_table("deduction")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_name"))

    op.drop_table("unit")
    op.drop_table("solicitation")
