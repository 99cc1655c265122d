"""scale: indexes for the hot paths found by bench/explain.py on province-sized data

- human_task.completed_for_id: the inbox's "done" count (completed by OR for a user) on
  every page's badge scanned the whole task table;
- human_task (enterprise_id, status, role, created_at): an enterprise's inbox read every
  open task of the enterprise role (all enterprises) and filtered;
- human_task (status, role, claimed_by_id, created_at): the todo tab (open, unclaimed, for
  a role) counted from the index alone, and listed in order without a sort;
- human_task (model_key), (name): the inbox filter's distinct processes and task names,
  read by a loose index scan instead of a GROUP BY over the whole table;
- community (name) and (enterprise_id, name): the inbox filter's community choices,
  ordered by name, for a supervisor and for an enterprise;
- enterprise (name): the same for enterprises.

Revision ID: a26_scale_indexes
Revises: a23_fieldwork
"""
from alembic import op

revision = "a26_scale_indexes"
down_revision = "a23_fieldwork"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_human_task_completed_for", "human_task", ["completed_for_id", "completed_at"]),
    ("ix_human_task_open_enterprise", "human_task", ["enterprise_id", "status", "role", "created_at"]),
    ("ix_human_task_todo", "human_task", ["status", "role", "claimed_by_id", "created_at"]),
    ("ix_human_task_model_key", "human_task", ["model_key"]),
    ("ix_human_task_name", "human_task", ["name"]),
    ("ix_community_name", "community", ["name"]),
    ("ix_community_enterprise_name", "community", ["enterprise_id", "name"]),
    ("ix_enterprise_name", "enterprise", ["name"]),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
