"""long jobs: progress of report generation and other batch work

Revision ID: a24_long_jobs
Revises: a18_contracts
Create Date: 2026-11-25 09:40:00

"""
from alembic import op
import sqlalchemy as sa

import app.models.base

revision = 'a24_long_jobs'
down_revision = 'a18_contracts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('long_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=300), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('long_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_long_job_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_long_job_created_by_id'), ['created_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('long_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_long_job_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_long_job_kind'))
    op.drop_table('long_job')
