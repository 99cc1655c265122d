"""disputes: work orders, mediation sessions, street mediators, hotline replies

Revision ID: a17_disputes
Revises: a16_filing
Create Date: 2026-11-25 02:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'a17_disputes'
down_revision = 'a16_filing'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('street_mediator',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('street_office_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['street_office_id'], ['street_office.id'], name=op.f('fk_street_mediator_street_office_id_street_office')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_street_mediator_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_street_mediator'))
    )
    with op.batch_alter_table('street_mediator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_street_mediator_street_office_id'), ['street_office_id'], unique=False)

    op.create_table('dispute',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('work_order_no', sa.String(length=64), nullable=True),
    sa.Column('received_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('caller_name', sa.String(length=100), nullable=False),
    sa.Column('caller_phone', sa.String(length=32), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('hotline_deadline', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('street_office_id', sa.Integer(), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('outcome_note', sa.Text(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=True),
    sa.Column('agreement_terms', sa.Text(), nullable=False),
    sa.Column('agreement_attachment_id', sa.Integer(), nullable=True),
    sa.Column('referral_channel', sa.String(length=30), nullable=True),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=True),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agreement_attachment_id'], ['attachment.id'], name=op.f('fk_dispute_agreement_attachment_id_attachment')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_dispute_community_id_community')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_dispute_created_by_id_user')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_dispute_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_dispute_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['mediator_id'], ['user.id'], name=op.f('fk_dispute_mediator_id_user')),
    sa.ForeignKeyConstraint(['street_office_id'], ['street_office.id'], name=op.f('fk_dispute_street_office_id_street_office')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute')),
    sa.UniqueConstraint('work_order_no', name=op.f('uq_dispute_work_order_no'))
    )
    with op.batch_alter_table('dispute', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispute_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispute_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispute_street_office_id'), ['street_office_id'], unique=False)

    op.create_table('hotline_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispute_id', sa.Integer(), nullable=False),
    sa.Column('work_order_no', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('receipt', sa.String(length=64), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['dispute_id'], ['dispute.id'], name=op.f('fk_hotline_reply_dispute_id_dispute')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotline_reply')),
    sa.UniqueConstraint('dispute_id', name=op.f('uq_hotline_reply_dispute_id'))
    )
    op.create_table('mediation_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispute_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('parties', sa.String(length=500), nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dispute_id'], ['dispute.id'], name=op.f('fk_mediation_session_dispute_id_dispute')),
    sa.ForeignKeyConstraint(['mediator_id'], ['user.id'], name=op.f('fk_mediation_session_mediator_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediation_session'))
    )
    with op.batch_alter_table('mediation_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediation_session_dispute_id'), ['dispute_id'], unique=False)


def downgrade():
    with op.batch_alter_table('mediation_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediation_session_dispute_id'))

    op.drop_table('mediation_session')
    op.drop_table('hotline_reply')
    with op.batch_alter_table('dispute', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_street_office_id'))
        batch_op.drop_index(batch_op.f('ix_dispute_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_dispute_created_at'))
        batch_op.drop_index(batch_op.f('ix_dispute_community_id'))

    op.drop_table('dispute')
    with op.batch_alter_table('street_mediator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_street_mediator_street_office_id'))

    op.drop_table('street_mediator')
