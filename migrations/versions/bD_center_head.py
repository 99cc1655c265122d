"""center head: the registered head of the housing center (overdue disbursement approvals)

Revision ID: bD_center_head
Revises: a25_fees
"""
from alembic import op
import sqlalchemy as sa

import app.models.base


revision = "bD_center_head"
down_revision = "a25_fees"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "center_head",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("registered_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_center_head_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_center_head")),
    )


def downgrade():
    op.drop_table("center_head")
