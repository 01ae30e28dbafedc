"""queue.inbox_version, bumped by the database whenever a request of the queue changes

Revision ID: 0007_inbox_version
Revises: 0006_audit
Create Date: 2026-11-25 17:50:00

The back office keeps each inbox listing it renders until a request of one of its queues
changes; the version tells it so. Triggers rather than application code: every writer counts,
the ORM, bulk SQL and the retention job alike.

PostgreSQL bumps at commit (a deferred constraint trigger): the queue row is locked only while
the transaction commits, never while it still waits for other locks such as the audit chain's,
so the bump adds no lock-order deadlock. SQLite has one writer at a time and bumps at once.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_inbox_version"
down_revision = "0006_audit"
branch_labels = None
depends_on = None

POSTGRESQL = [
    """
    CREATE FUNCTION request_bump_inbox_version() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE queue SET inbox_version = inbox_version + 1 WHERE id = NEW.queue_id;
        ELSIF TG_OP = 'DELETE' THEN
            UPDATE queue SET inbox_version = inbox_version + 1 WHERE id = OLD.queue_id;
        ELSE
            UPDATE queue SET inbox_version = inbox_version + 1
            WHERE id IN (OLD.queue_id, NEW.queue_id);
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE CONSTRAINT TRIGGER request_inbox_version
    AFTER INSERT OR UPDATE OR DELETE ON request
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION request_bump_inbox_version()
    """,
]

SQLITE = [
    """
    CREATE TRIGGER request_inbox_version_insert AFTER INSERT ON request
    BEGIN
        UPDATE queue SET inbox_version = inbox_version + 1 WHERE id = NEW.queue_id;
    END
    """,
    """
    CREATE TRIGGER request_inbox_version_update AFTER UPDATE ON request
    BEGIN
        UPDATE queue SET inbox_version = inbox_version + 1
        WHERE id IN (OLD.queue_id, NEW.queue_id);
    END
    """,
    """
    CREATE TRIGGER request_inbox_version_delete AFTER DELETE ON request
    BEGIN
        UPDATE queue SET inbox_version = inbox_version + 1 WHERE id = OLD.queue_id;
    END
    """,
]


def upgrade():
    with op.batch_alter_table("queue", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("inbox_version", sa.BigInteger(), nullable=False, server_default="0")
        )
    statements = POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS request_inbox_version ON request")
        op.execute("DROP FUNCTION IF EXISTS request_bump_inbox_version()")
    else:
        for kind in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS request_inbox_version_{kind}")
    with op.batch_alter_table("queue", schema=None) as batch_op:
        batch_op.drop_column("inbox_version")
