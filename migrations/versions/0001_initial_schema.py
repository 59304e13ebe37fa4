"""Initial schema: users, consent, sessions, transcripts, assessments, turns, flags, mappings, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("audit_log",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("actor_ref", sa.String(length=96), nullable=False),
    sa.Column("actor_name", sa.String(length=96), nullable=False),
    sa.Column("action", sa.String(length=32), nullable=False),
    sa.Column("flag_id", sa.Integer(), nullable=True),
    sa.Column("allowed", sa.Boolean(), nullable=False),
    sa.Column("detail", sa.String(length=256), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log"))
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table("users",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("platform", sa.String(length=16), nullable=False),
    sa.Column("platform_user_id", sa.String(length=64), nullable=False),
    sa.Column("chat_ref", sa.String(length=128), nullable=False),
    sa.Column("locale", sa.String(length=16), nullable=True),
    sa.Column("country", sa.String(length=2), nullable=True),
    sa.Column("consent", sa.String(length=16), nullable=False),
    sa.Column("consent_version", sa.Integer(), nullable=True),
    sa.Column("blocked", sa.Boolean(), nullable=False),
    sa.Column("unreachable", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    sa.UniqueConstraint("platform", "platform_user_id", name=op.f("uq_users_platform_platform_user_id"))
    )
    op.create_table("consent_records",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("state", sa.String(length=16), nullable=False),
    sa.Column("notice_version", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_consent_records_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records"))
    )
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_records_user_id"), ["user_id"], unique=False)

    op.create_table("sessions",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("state", sa.String(length=16), nullable=False),
    sa.Column("level", sa.Integer(), nullable=False),
    sa.Column("categories", sa.JSON(), nullable=False),
    sa.Column("scripted", sa.Boolean(), nullable=False),
    sa.Column("started_at", sa.DateTime(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions"))
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_user_open", ["user_id", "state"], unique=False)

    op.create_table("assessments",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("session_id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("level", sa.Integer(), nullable=False),
    sa.Column("categories", sa.JSON(), nullable=False),
    sa.Column("reasons", sa.JSON(), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_assessments_session_id_sessions"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_assessments_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments"))
    )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessments_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assessments_user_id"), ["user_id"], unique=False)

    op.create_table("flags",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("session_id", sa.Integer(), nullable=True),
    sa.Column("user_id", sa.Integer(), nullable=True),
    sa.Column("user_label", sa.String(length=64), nullable=False),
    sa.Column("kind", sa.String(length=16), nullable=False),
    sa.Column("level", sa.Integer(), nullable=False),
    sa.Column("categories", sa.JSON(), nullable=False),
    sa.Column("reasons", sa.JSON(), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("assignee_ref", sa.String(length=96), nullable=True),
    sa.Column("assignee_name", sa.String(length=96), nullable=True),
    sa.Column("outcome", sa.String(length=32), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("claimed_at", sa.DateTime(), nullable=True),
    sa.Column("resolved_at", sa.DateTime(), nullable=True),
    sa.Column("next_page_at", sa.DateTime(), nullable=True),
    sa.Column("repages", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_flags_session_id_sessions"), ondelete="SET NULL"),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_flags_user_id_users"), ondelete="SET NULL"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_flags"))
    )
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flags_session_id"), ["session_id"], unique=False)
        batch_op.create_index("ix_flags_status_page", ["status", "next_page_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_flags_user_id"), ["user_id"], unique=False)

    op.create_table("messages",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("session_id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("role", sa.String(length=16), nullable=False),
    sa.Column("body", sa.LargeBinary(), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_messages_session_id_sessions"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_messages_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_messages"))
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_user_id"), ["user_id"], unique=False)

    op.create_table("turns",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("session_id", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("received_at", sa.DateTime(), nullable=False),
    sa.Column("finished_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_turns_session_id_sessions"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_turns_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_turns"))
    )
    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.create_index("ix_turns_status", ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_turns_user_id"), ["user_id"], unique=False)

    op.create_table("flag_messages",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("flag_id", sa.Integer(), nullable=False),
    sa.Column("level", sa.Integer(), nullable=False),
    sa.Column("body", sa.LargeBinary(), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["flag_id"], ["flags.id"], name=op.f("fk_flag_messages_flag_id_flags"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_messages"))
    )
    with op.batch_alter_table("flag_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flag_messages_flag_id"), ["flag_id"], unique=False)

    op.create_table("flag_notes",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("flag_id", sa.Integer(), nullable=False),
    sa.Column("author_ref", sa.String(length=96), nullable=False),
    sa.Column("author_name", sa.String(length=96), nullable=False),
    sa.Column("body", sa.LargeBinary(), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["flag_id"], ["flags.id"], name=op.f("fk_flag_notes_flag_id_flags"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_notes"))
    )
    with op.batch_alter_table("flag_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flag_notes_flag_id"), ["flag_id"], unique=False)

    op.create_table("surface_mappings",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("flag_id", sa.Integer(), nullable=False),
    sa.Column("surface", sa.String(length=32), nullable=False),
    sa.Column("ref", sa.String(length=128), nullable=False),
    sa.Column("primary", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["flag_id"], ["flags.id"], name=op.f("fk_surface_mappings_flag_id_flags"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_surface_mappings")),
    sa.UniqueConstraint("surface", "ref", name=op.f("uq_surface_mappings_surface_ref"))
    )
    with op.batch_alter_table("surface_mappings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surface_mappings_flag_id"), ["flag_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("surface_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surface_mappings_flag_id"))

    op.drop_table("surface_mappings")
    with op.batch_alter_table("flag_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flag_notes_flag_id"))

    op.drop_table("flag_notes")
    with op.batch_alter_table("flag_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flag_messages_flag_id"))

    op.drop_table("flag_messages")
    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_turns_user_id"))
        batch_op.drop_index("ix_turns_status")

    op.drop_table("turns")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_user_id"))
        batch_op.drop_index(batch_op.f("ix_messages_session_id"))
        batch_op.drop_index(batch_op.f("ix_messages_at"))

    op.drop_table("messages")
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flags_user_id"))
        batch_op.drop_index("ix_flags_status_page")
        batch_op.drop_index(batch_op.f("ix_flags_session_id"))

    op.drop_table("flags")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessments_user_id"))
        batch_op.drop_index(batch_op.f("ix_assessments_session_id"))

    op.drop_table("assessments")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_user_open")

    op.drop_table("sessions")
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_records_user_id"))

    op.drop_table("consent_records")
    op.drop_table("users")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
