"""notification delivery: each stored notification is handed to the notifier after its
transaction committed, by a periodic job; `delivered_at` marks the ones it handed over

Revision ID: c2_notification_delivery
Revises: c1_merge_branches
Create Date: 2026-12-07 15:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.models.base

revision = 'c2_notification_delivery'
down_revision = 'c1_merge_branches'
branch_labels = None
depends_on = None

UNDELIVERED = sa.text("delivered_at IS NULL")


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivered_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
    # Until now the notifier was called as each row was made: those rows were handed over.
    op.execute("UPDATE notification SET delivered_at = created_at")
    op.create_index('ix_notification_undelivered', 'notification', ['id'], unique=False,
                    postgresql_where=UNDELIVERED, sqlite_where=UNDELIVERED)


def downgrade():
    op.drop_index('ix_notification_undelivered', table_name='notification')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('delivered_at')
