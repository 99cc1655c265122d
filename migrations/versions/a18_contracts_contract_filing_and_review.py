"""contract filing and review

Revision ID: a18_contracts
Revises: a17_disputes
Create Date: 2026-11-25 09:14:42.584837

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'a18_contracts'
down_revision = 'a17_disputes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contract_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('drafted_by_id', sa.Integer(), nullable=True),
    sa.Column('countersigned_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['countersigned_by_id'], ['user.id'], name=op.f('fk_contract_template_countersigned_by_id_user')),
    sa.ForeignKeyConstraint(['drafted_by_id'], ['user.id'], name=op.f('fk_contract_template_drafted_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_template')),
    sa.UniqueConstraint('kind', 'version', name=op.f('uq_contract_template_kind'))
    )
    op.create_table('template_clause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('heading', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('checklist_item', sa.String(length=30), nullable=True),
    sa.ForeignKeyConstraint(['template_id'], ['contract_template.id'], name=op.f('fk_template_clause_template_id_contract_template')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template_clause')),
    sa.UniqueConstraint('template_id', 'number', name=op.f('uq_template_clause_template_id'))
    )
    with op.batch_alter_table('template_clause', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_template_clause_template_id'), ['template_id'], unique=False)

    op.create_table('contract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('submitted_by', sa.String(length=20), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('street_office_id', sa.Integer(), nullable=True),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('party_a', sa.String(length=200), nullable=False),
    sa.Column('tender_ref', sa.String(length=100), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('fee_per_sqm', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('service_level', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('rounds', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('misses', sa.Integer(), nullable=False),
    sa.Column('guidance_notice_id', sa.Integer(), nullable=True),
    sa.Column('correction_order_id', sa.Integer(), nullable=True),
    sa.Column('certificate_id', sa.Integer(), nullable=True),
    sa.Column('filed_round', sa.Integer(), nullable=True),
    sa.Column('filed_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_comment', sa.Text(), nullable=False),
    sa.Column('renewal_reminded_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('active_key', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['attachment.id'], name=op.f('fk_contract_certificate_id_attachment')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_contract_community_id_community')),
    sa.ForeignKeyConstraint(['correction_order_id'], ['attachment.id'], name=op.f('fk_contract_correction_order_id_attachment')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_contract_created_by_id_user')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_contract_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['guidance_notice_id'], ['attachment.id'], name=op.f('fk_contract_guidance_notice_id_attachment')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_contract_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['street_office_id'], ['street_office.id'], name=op.f('fk_contract_street_office_id_street_office')),
    sa.ForeignKeyConstraint(['template_id'], ['contract_template.id'], name=op.f('fk_contract_template_id_contract_template')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract')),
    sa.UniqueConstraint('active_key', name=op.f('uq_contract_active_key'))
    )
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_ends_on'), ['ends_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_street_office_id'), ['street_office_id'], unique=False)

    op.create_table('contract_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('pdf_id', sa.Integer(), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('committee_confirmed', sa.Boolean(), nullable=True),
    sa.Column('committee_comment', sa.Text(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('opinions_letter_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_round_contract_id_contract')),
    sa.ForeignKeyConstraint(['opinions_letter_id'], ['attachment.id'], name=op.f('fk_contract_round_opinions_letter_id_attachment')),
    sa.ForeignKeyConstraint(['pdf_id'], ['attachment.id'], name=op.f('fk_contract_round_pdf_id_attachment')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user.id'], name=op.f('fk_contract_round_reviewed_by_id_user')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user.id'], name=op.f('fk_contract_round_submitted_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_round')),
    sa.UniqueConstraint('contract_id', 'number', name=op.f('uq_contract_round_contract_id'))
    )
    with op.batch_alter_table('contract_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_round_contract_id'), ['contract_id'], unique=False)

    op.create_table('revision_opinion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('clause_no', sa.Integer(), nullable=False),
    sa.Column('clause_heading', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('proposed_wording', sa.Text(), nullable=False),
    sa.Column('carried_from_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.String(length=10), nullable=True),
    sa.Column('answer_text', sa.Text(), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved', sa.Boolean(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user.id'], name=op.f('fk_revision_opinion_answered_by_id_user')),
    sa.ForeignKeyConstraint(['carried_from_id'], ['revision_opinion.id'], name=op.f('fk_revision_opinion_carried_from_id_revision_opinion')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_revision_opinion_contract_id_contract')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_revision_opinion_created_by_id_user')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id'], name=op.f('fk_revision_opinion_resolved_by_id_user')),
    sa.ForeignKeyConstraint(['round_id'], ['contract_round.id'], name=op.f('fk_revision_opinion_round_id_contract_round')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revision_opinion')),
    sa.UniqueConstraint('round_id', 'seq', name=op.f('uq_revision_opinion_round_id'))
    )
    with op.batch_alter_table('revision_opinion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revision_opinion_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_revision_opinion_round_id'), ['round_id'], unique=False)



def downgrade():
    with op.batch_alter_table('revision_opinion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revision_opinion_round_id'))
        batch_op.drop_index(batch_op.f('ix_revision_opinion_contract_id'))

    op.drop_table('revision_opinion')
    with op.batch_alter_table('contract_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_round_contract_id'))

    op.drop_table('contract_round')
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_street_office_id'))
        batch_op.drop_index(batch_op.f('ix_contract_status'))
        batch_op.drop_index(batch_op.f('ix_contract_instance_id'))
        batch_op.drop_index(batch_op.f('ix_contract_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_contract_ends_on'))
        batch_op.drop_index(batch_op.f('ix_contract_community_id'))

    op.drop_table('contract')
    with op.batch_alter_table('template_clause', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_template_clause_template_id'))

    op.drop_table('template_clause')
    op.drop_table('contract_template')
