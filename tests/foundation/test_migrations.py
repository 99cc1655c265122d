"""The schema comes only from the migrations, and the models match it."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db


def test_models_match_migrated_schema(app):
    """The session fixture built this database with `flask db upgrade` from empty."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_upgrade_builds_an_empty_database_from_scratch(tmp_path):
    import subprocess
    import sys
    import os
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite'}", "INSTANCE_PATH": str(tmp_path),
           "FLASK_APP": "app"}
    result = subprocess.run([sys.executable, "-m", "flask", "db", "upgrade", "heads"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    import sqlalchemy as sa
    tables = sa.inspect(sa.create_engine(env["DATABASE_URL"])).get_table_names()
    assert {"enterprise", "community", "user", "audit_event", "alembic_version"} <= set(tables)
