"""fieldwork: daily inspections with findings and photos, owner satisfaction surveys

Revision ID: a23_fieldwork
Revises: a22_evaluation
Create Date: 2026-11-25 10:50:00

"""
from alembic import op
import sqlalchemy as sa

import app.models.base

revision = 'a23_fieldwork'
down_revision = 'a22_evaluation'
branch_labels = None
depends_on = None

UTC = app.models.base.UTCDateTime(timezone=True)


def upgrade():
    op.create_table('inspection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('street_office_id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=40), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_inspection_community_id_community')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_inspection_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['street_office_id'], ['street_office.id'], name=op.f('fk_inspection_street_office_id_street_office')),
    sa.ForeignKeyConstraint(['inspector_id'], ['user.id'], name=op.f('fk_inspection_inspector_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection'))
    )
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_street_office_id'), ['street_office_id'], unique=False)

    op.create_table('inspection_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=60), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('points', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('deadline', UTC, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('responded_at', UTC, nullable=True),
    sa.Column('appeal_reason', sa.Text(), nullable=False),
    sa.Column('appealed_at', UTC, nullable=True),
    sa.Column('appeal_decision', sa.String(length=20), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', UTC, nullable=True),
    sa.Column('credit_record_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], name=op.f('fk_inspection_finding_inspection_id_inspection')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_inspection_finding_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_inspection_finding_community_id_community')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_inspection_finding_decided_by_id_user')),
    sa.ForeignKeyConstraint(['credit_record_id'], ['credit_record.id'], name=op.f('fk_inspection_finding_credit_record_id_credit_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_finding'))
    )
    with op.batch_alter_table('inspection_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_finding_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_finding_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_finding_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_finding_status'), ['status'], unique=False)

    op.create_table('inspection_photo',
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], name=op.f('fk_inspection_photo_inspection_id_inspection')),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], name=op.f('fk_inspection_photo_attachment_id_attachment')),
    sa.PrimaryKeyConstraint('inspection_id', 'attachment_id', name=op.f('pk_inspection_photo'))
    )

    op.create_table('satisfaction_survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_satisfaction_survey_community_id_community')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_satisfaction_survey_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_satisfaction_survey_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_satisfaction_survey')),
    sa.UniqueConstraint('community_id', 'year', name=op.f('uq_satisfaction_survey_community_id'))
    )
    with op.batch_alter_table('satisfaction_survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_satisfaction_survey_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_satisfaction_survey_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('survey_household',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['satisfaction_survey.id'], name=op.f('fk_survey_household_survey_id_satisfaction_survey')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_household')),
    sa.UniqueConstraint('survey_id', 'number', name=op.f('uq_survey_household_survey_id')),
    sa.UniqueConstraint('token', name=op.f('uq_survey_household_token'))
    )
    with op.batch_alter_table('survey_household', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_household_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('answered_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['satisfaction_survey.id'], name=op.f('fk_survey_answer_survey_id_satisfaction_survey')),
    sa.ForeignKeyConstraint(['household_id'], ['survey_household.id'], name=op.f('fk_survey_answer_household_id_survey_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answer')),
    sa.UniqueConstraint('household_id', name=op.f('uq_survey_answer_household_id'))
    )
    with op.batch_alter_table('survey_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_answer_survey_id'), ['survey_id'], unique=False)


def downgrade():
    op.drop_table('survey_answer')
    op.drop_table('survey_household')
    op.drop_table('satisfaction_survey')
    op.drop_table('inspection_photo')
    op.drop_table('inspection_finding')
    op.drop_table('inspection')
