"""Merge the branches of 2026-12-01: the center's head, unknown-device events, the audit
chain's head and the job outbox.

Revision ID: c1_merge_branches
Revises: bD_center_head, bF_unknown_device_events, bH_job_outbox
"""

revision = "c1_merge_branches"
down_revision = ("bD_center_head", "bF_unknown_device_events", "bH_job_outbox")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
