"""unknown device events: events of unregistered serials are kept for the housing center

Revision ID: bF_unknown_device_events
Revises: a25_fees
Create Date: 2026-11-28 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


revision = 'bF_unknown_device_events'
down_revision = 'a25_fees'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('unknown_device_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('serial', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('occurred_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unknown_device_event')),
    sa.UniqueConstraint('event_id', name=op.f('uq_unknown_device_event_event_id'))
    )
    with op.batch_alter_table('unknown_device_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unknown_device_event_serial'), ['serial'], unique=False)


def downgrade():
    with op.batch_alter_table('unknown_device_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unknown_device_event_serial'))
    op.drop_table('unknown_device_event')
