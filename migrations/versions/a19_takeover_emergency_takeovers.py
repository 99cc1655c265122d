"""takeover: emergency takeovers, candidates, street office heads

Revision ID: a19_takeover
Revises: a24_long_jobs
Create Date: 2026-11-25 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'a19_takeover'
down_revision = 'a24_long_jobs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('street_office_head',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('street_office_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['street_office_id'], ['street_office.id'], name=op.f('fk_street_office_head_street_office_id_street_office')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_street_office_head_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_street_office_head'))
    )
    with op.batch_alter_table('street_office_head', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_street_office_head_street_office_id'), ['street_office_id'], unique=False)

    op.create_table('emergency_takeover',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('street_office_id', sa.Integer(), nullable=False),
    sa.Column('previous_enterprise_id', sa.Integer(), nullable=True),
    sa.Column('cause', sa.String(length=20), nullable=False),
    sa.Column('situation', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('basic_scope', sa.JSON(), nullable=False),
    sa.Column('selection_starts_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approval_comment', sa.Text(), nullable=False),
    sa.Column('record_no', sa.String(length=40), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('site_manager', sa.String(length=50), nullable=False),
    sa.Column('site_phone', sa.String(length=30), nullable=False),
    sa.Column('regular_enterprise_id', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.String(length=20), nullable=True),
    sa.Column('decision_on', sa.Date(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('handover_on', sa.Date(), nullable=True),
    sa.Column('handover_items', sa.JSON(), nullable=False),
    sa.Column('handed_over_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('active_key', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user.id'], name=op.f('fk_emergency_takeover_approved_by_id_user')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_emergency_takeover_community_id_community')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_emergency_takeover_created_by_id_user')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_emergency_takeover_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_emergency_takeover_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['previous_enterprise_id'], ['enterprise.id'], name=op.f('fk_emergency_takeover_previous_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user.id'], name=op.f('fk_emergency_takeover_proposed_by_id_user')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_emergency_takeover_recorded_by_id_user')),
    sa.ForeignKeyConstraint(['regular_enterprise_id'], ['enterprise.id'], name=op.f('fk_emergency_takeover_regular_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['street_office_id'], ['street_office.id'], name=op.f('fk_emergency_takeover_street_office_id_street_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_takeover')),
    sa.UniqueConstraint('active_key', name=op.f('uq_emergency_takeover_active_key')),
    sa.UniqueConstraint('record_no', name=op.f('uq_emergency_takeover_record_no'))
    )
    with op.batch_alter_table('emergency_takeover', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emergency_takeover_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_takeover_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_takeover_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_takeover_regular_enterprise_id'), ['regular_enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_takeover_street_office_id'), ['street_office_id'], unique=False)

    op.create_table('takeover_candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('takeover_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('exception', sa.Boolean(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=False),
    sa.Column('checked_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_takeover_candidate_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['takeover_id'], ['emergency_takeover.id'], name=op.f('fk_takeover_candidate_takeover_id_emergency_takeover')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takeover_candidate')),
    sa.UniqueConstraint('takeover_id', 'enterprise_id', name=op.f('uq_takeover_candidate_takeover_id'))
    )
    with op.batch_alter_table('takeover_candidate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_takeover_candidate_takeover_id'), ['takeover_id'], unique=False)



def downgrade():
    with op.batch_alter_table('takeover_candidate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_takeover_candidate_takeover_id'))

    op.drop_table('takeover_candidate')
    with op.batch_alter_table('emergency_takeover', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emergency_takeover_street_office_id'))
        batch_op.drop_index(batch_op.f('ix_emergency_takeover_regular_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_emergency_takeover_instance_id'))
        batch_op.drop_index(batch_op.f('ix_emergency_takeover_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_emergency_takeover_community_id'))

    op.drop_table('emergency_takeover')
    with op.batch_alter_table('street_office_head', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_street_office_head_street_office_id'))

    op.drop_table('street_office_head')
