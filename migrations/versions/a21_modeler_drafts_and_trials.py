"""modeler: working drafts of process models and sandbox trial runs

Revision ID: a21_modeler
Revises: a20_devices
Create Date: 2026-11-25 09:12:04.837443

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'a21_modeler'
down_revision = 'a20_devices'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('process_model_trial',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('log', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['process_model.id'], name=op.f('fk_process_model_trial_model_id_process_model'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_process_model_trial_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_model_trial'))
    )
    with op.batch_alter_table('process_model_trial', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_model_trial_model_id'), ['model_id'], unique=False)

    op.create_table('process_model_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('bpmn_xml', sa.Text(), nullable=False),
    sa.Column('dmn_files', sa.JSON(), nullable=False),
    sa.Column('base_version_id', sa.Integer(), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['base_version_id'], ['process_model_version.id'], name=op.f('fk_process_model_draft_base_version_id_process_model_version')),
    sa.ForeignKeyConstraint(['model_id'], ['process_model.id'], name=op.f('fk_process_model_draft_model_id_process_model'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_process_model_draft_updated_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_model_draft')),
    sa.UniqueConstraint('model_id', name=op.f('uq_process_model_draft_model_id'))
    )


def downgrade():
    op.drop_table('process_model_draft')
    with op.batch_alter_table('process_model_trial', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_model_trial_model_id'))

    op.drop_table('process_model_trial')
