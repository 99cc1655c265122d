"""devices: registry, raw events, status periods, daily summaries, repair cases, supplier
records, build plans and repayments

Revision ID: a20_devices
Revises: a19_takeover
Create Date: 2026-11-25 09:14:27

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'a20_devices'
down_revision = 'a19_takeover'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('device_platform_sync',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('cursor', sa.String(length=100), nullable=False),
    sa.Column('last_success_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_attempt_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_device_platform_sync'))
    )
    op.create_table('device_daily_summary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('devices', sa.Integer(), nullable=False),
    sa.Column('availability', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('faults', sa.Integer(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('staff_checkins', sa.Integer(), nullable=False),
    sa.Column('staff_present', sa.Integer(), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_device_daily_summary_community_id_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_daily_summary')),
    sa.UniqueConstraint('community_id', 'day', name=op.f('uq_device_daily_summary_community_id'))
    )
    op.create_table('build_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('cost', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('instalments', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agreed_by_id', sa.Integer(), nullable=True),
    sa.Column('agreed_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('advanced_by_id', sa.Integer(), nullable=True),
    sa.Column('advanced_on', sa.Date(), nullable=True),
    sa.Column('advance_reference', sa.String(length=64), nullable=True),
    sa.Column('repaid_on', sa.Date(), nullable=True),
    sa.Column('termination_reason', sa.Text(), nullable=False),
    sa.Column('termination_requested_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('terminated_on', sa.Date(), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['advanced_by_id'], ['user.id'], name=op.f('fk_build_plan_advanced_by_id_user')),
    sa.ForeignKeyConstraint(['agreed_by_id'], ['user.id'], name=op.f('fk_build_plan_agreed_by_id_user')),
    sa.ForeignKeyConstraint(['bank_id'], ['bank.id'], name=op.f('fk_build_plan_bank_id_bank')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_build_plan_community_id_community')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_build_plan_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user.id'], name=op.f('fk_build_plan_proposed_by_id_user')),
    sa.ForeignKeyConstraint(['supplier_id'], ['device_supplier.id'], name=op.f('fk_build_plan_supplier_id_device_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_build_plan')),
    sa.UniqueConstraint('advance_reference', name=op.f('uq_build_plan_advance_reference'))
    )
    with op.batch_alter_table('build_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_build_plan_bank_id'), ['bank_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_build_plan_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_build_plan_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_build_plan_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('build_plan_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['build_plan.id'], name=op.f('fk_build_plan_item_plan_id_build_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_build_plan_item'))
    )
    with op.batch_alter_table('build_plan_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_build_plan_item_plan_id'), ['plan_id'], unique=False)

    op.create_table('device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('serial', sa.String(length=64), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('installed_on', sa.Date(), nullable=False),
    sa.Column('warranty_until', sa.Date(), nullable=True),
    sa.Column('owner', sa.String(length=20), nullable=False),
    sa.Column('owner_bank_id', sa.Integer(), nullable=True),
    sa.Column('build_plan_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_since', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['build_plan_id'], ['build_plan.id'], name=op.f('fk_device_build_plan_id_build_plan')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_device_community_id_community')),
    sa.ForeignKeyConstraint(['owner_bank_id'], ['bank.id'], name=op.f('fk_device_owner_bank_id_bank')),
    sa.ForeignKeyConstraint(['supplier_id'], ['device_supplier.id'], name=op.f('fk_device_supplier_id_device_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device')),
    sa.UniqueConstraint('serial', name=op.f('uq_device_serial'))
    )
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_build_plan_id'), ['build_plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('repayment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('paid', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['build_plan.id'], name=op.f('fk_repayment_plan_id_build_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repayment')),
    sa.UniqueConstraint('plan_id', 'seq', name=op.f('uq_repayment_plan_id'))
    )
    op.create_table('repayment_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['build_plan.id'], name=op.f('fk_repayment_payment_plan_id_build_plan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_repayment_payment_recorded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repayment_payment')),
    sa.UniqueConstraint('reference', name=op.f('uq_repayment_payment_reference'))
    )
    with op.batch_alter_table('repayment_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repayment_payment_plan_id'), ['plan_id'], unique=False)

    op.create_table('device_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('occurred_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_device_event_device_id_device'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_event')),
    sa.UniqueConstraint('event_id', name=op.f('uq_device_event_event_id'))
    )
    with op.batch_alter_table('device_event', schema=None) as batch_op:
        batch_op.create_index('ix_device_event_community_time', ['community_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_device_event_device_time', ['device_id', 'occurred_at'], unique=False)

    op.create_table('device_status_period',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_device_status_period_device_id_device'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_status_period'))
    )
    with op.batch_alter_table('device_status_period', schema=None) as batch_op:
        batch_op.create_index('ix_device_status_period_device', ['device_id', 'started_at'], unique=False)

    op.create_table('repair_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('fault_kind', sa.String(length=30), nullable=False),
    sa.Column('fault_event_id', sa.String(length=64), nullable=True),
    sa.Column('fault_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('repaired_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('repaired_by_id', sa.Integer(), nullable=True),
    sa.Column('repair_note', sa.Text(), nullable=False),
    sa.Column('parts', sa.String(length=300), nullable=False),
    sa.Column('healthy_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('open_key', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_repair_case_community_id_community')),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_repair_case_device_id_device')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_repair_case_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_repair_case_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['repaired_by_id'], ['user.id'], name=op.f('fk_repair_case_repaired_by_id_user')),
    sa.ForeignKeyConstraint(['supplier_id'], ['device_supplier.id'], name=op.f('fk_repair_case_supplier_id_device_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repair_case')),
    sa.UniqueConstraint('open_key', name=op.f('uq_repair_case_open_key'))
    )
    with op.batch_alter_table('repair_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repair_case_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_case_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_case_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_case_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('supplier_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('points', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('source_instance_id', sa.Integer(), nullable=True),
    sa.Column('repair_case_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['repair_case_id'], ['repair_case.id'], name=op.f('fk_supplier_record_repair_case_id_repair_case')),
    sa.ForeignKeyConstraint(['source_instance_id'], ['process_instance.id'], name=op.f('fk_supplier_record_source_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['supplier_id'], ['device_supplier.id'], name=op.f('fk_supplier_record_supplier_id_device_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_record'))
    )
    with op.batch_alter_table('supplier_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supplier_record_supplier_id'), ['supplier_id'], unique=False)



def downgrade():
    with op.batch_alter_table('supplier_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplier_record_supplier_id'))

    op.drop_table('supplier_record')
    with op.batch_alter_table('repair_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repair_case_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_repair_case_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_repair_case_device_id'))
        batch_op.drop_index(batch_op.f('ix_repair_case_community_id'))

    op.drop_table('repair_case')
    with op.batch_alter_table('device_status_period', schema=None) as batch_op:
        batch_op.drop_index('ix_device_status_period_device')

    op.drop_table('device_status_period')
    with op.batch_alter_table('device_event', schema=None) as batch_op:
        batch_op.drop_index('ix_device_event_device_time')
        batch_op.drop_index('ix_device_event_community_time')

    op.drop_table('device_event')
    with op.batch_alter_table('repayment_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repayment_payment_plan_id'))

    op.drop_table('repayment_payment')
    op.drop_table('repayment')
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_device_community_id'))
        batch_op.drop_index(batch_op.f('ix_device_build_plan_id'))

    op.drop_table('device')
    with op.batch_alter_table('build_plan_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_build_plan_item_plan_id'))

    op.drop_table('build_plan_item')
    with op.batch_alter_table('build_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_build_plan_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_build_plan_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_build_plan_community_id'))
        batch_op.drop_index(batch_op.f('ix_build_plan_bank_id'))

    op.drop_table('build_plan')
    op.drop_table('device_daily_summary')
    op.drop_table('device_platform_sync')
