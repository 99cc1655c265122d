"""audit chain: positions in the chain and its head

Revision ID: bH_audit_head
Revises: a25_fees
Create Date: 2026-12-01 10:00:00

Existing sealed entries keep their hashes: they get their chain positions in id order (the
order they were sealed in) and the head records the last of them.
"""
from alembic import op
import sqlalchemy as sa

import app.models.base

revision = 'bH_audit_head'
down_revision = 'a25_fees'
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', BIG, nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_chain_seq'), ['chain_seq'])
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entries', BIG, nullable=False),
    sa.Column('last_id', BIG, nullable=True),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('sealed_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.execute("UPDATE audit_event SET chain_seq = numbered.seq FROM (SELECT id, row_number() OVER (ORDER BY id) "
               "AS seq FROM audit_event WHERE hash IS NOT NULL) AS numbered WHERE audit_event.id = numbered.id")
    op.execute("INSERT INTO audit_chain_head (id, entries, last_id, last_hash, sealed_at) "
               "SELECT 1, chain_seq, id, hash, at FROM audit_event WHERE chain_seq = "
               "(SELECT MAX(chain_seq) FROM audit_event)")


def downgrade():
    op.drop_table('audit_chain_head')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_event_chain_seq'), type_='unique')
        batch_op.drop_column('chain_seq')
