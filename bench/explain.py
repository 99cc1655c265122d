"""Index use on the hot paths, on the province-sized database: every SELECT the app runs
while serving each hot path (captured from the real request, not written out by hand) is
run again under EXPLAIN ANALYZE, and its plan's scans are printed. A sequential scan of a
large table (≥ --large rows) on a hot path is flagged; the script exits 1 if there is one.

    /work/main/.venv/bin/python bench/explain.py [--db wuye_province] [--large 10000]

Hot paths: the inbox (housing center, an enterprise), a task completion (API), a case page,
the public pages (bench/load.py PUBLIC_PAGES), and the due-timer query.
"""
import argparse
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from load import PUBLIC_PAGES, STEP_DATA  # noqa: E402
from province_seed import BENCH_PASSWORD, sa_url  # noqa: E402


def scans(plan: dict) -> list[tuple[str, str, str, float]]:
    """(node type, table, index, actual rows) of every scan node of a plan."""
    found = []
    if "Relation Name" in plan or "Index Name" in plan:
        found.append((plan["Node Type"], plan.get("Relation Name", ""), plan.get("Index Name", ""),
                      plan.get("Actual Rows", 0) * plan.get("Actual Loops", 1)))
    for child in plan.get("Plans", []):
        found.extend(scans(child))
    return found


class Capture:
    def __init__(self, engine):
        self.statements = []
        event.listen(engine, "before_cursor_execute", self.record)

    def record(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and not executemany:
            self.statements.append((statement, parameters))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="wuye_province")
    parser.add_argument("--large", type=int, default=10_000)
    args = parser.parse_args()
    os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp())
    from app import create_app
    from app.engine import runtime
    from app.extensions import db
    from app.models import Community, HumanTask, ProcessInstance, User
    from app.services import users
    app = create_app({"SQLALCHEMY_DATABASE_URI": sa_url(args.db), "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        engine = db.engine
        sizes = dict(db.session.execute(db.text(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r' AND relnamespace = "
            "'public'::regnamespace")).all())
        enterprise_user = db.session.scalar(db.select(User).where(User.username == "bench_ent1"))
        center = db.session.scalar(db.select(User).where(User.username == "bench_center"))
        token = users.issue_token(center, name="explain")
        task_id = db.session.scalar(db.select(HumanTask.id).where(HumanTask.status == "open",
                                                                  HumanTask.role == "housing_center").limit(1))
        case_id = db.session.scalar(db.select(ProcessInstance.id).where(ProcessInstance.status == "running").limit(1))
        community_id = db.session.scalar(db.select(Community.id).order_by(Community.id.desc()).limit(1))
        enterprise_name = enterprise_user.username
        db.session.commit()

    def timers_due(client):
        with app.app_context():
            return runtime.due_timer_instance_ids(datetime.now(timezone.utc))

    # (name, user to log in as first, or None, the request)
    paths = [
        ("inbox (housing center)", "bench_center", lambda c: c.get("/inbox")),
        ("inbox (enterprise)", enterprise_name, lambda c: c.get("/inbox")),
        ("task completion (API)", None, lambda c: c.post(f"/api/v1/tasks/{task_id}/complete", json=STEP_DATA,
                                                         headers={"Authorization": f"Bearer {token}"})),
        ("case page", "bench_center", lambda c: c.get(f"/cases/{case_id}")),
        *[(name, None, lambda c, p=path: c.get(p.format(community=community_id))) for path, name in PUBLIC_PAGES],
        ("due timers (timer job)", None, timers_due),
    ]
    flagged = []
    for name, username, request in paths:
        client = app.test_client()
        if username:
            client.post("/login", data={"username": username, "password": BENCH_PASSWORD})
        capture = Capture(engine)
        response = request(client)
        event.remove(engine, "before_cursor_execute", capture.record)
        print(f"\n== {name}: {getattr(response, 'status_code', 'ok')}, {len(capture.statements)} SELECTs")
        with engine.connect() as conn:
            seen = set()
            for statement, parameters in capture.statements:
                if statement in seen:
                    continue
                seen.add(statement)
                root = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar()[0]
                parts = []
                for node_type, table, index, rows in scans(root["Plan"]):
                    big = node_type == "Seq Scan" and sizes.get(table, 0) >= args.large
                    if big:
                        flagged.append((name, table, statement))
                    parts.append(f"{node_type} {table}{' using ' + index if index else ''}"
                                 + (f" [SEQ SCAN OF {sizes[table]:,} ROWS]" if big else ""))
                print(f"  {root['Execution Time']:7.2f} ms  {' · '.join(parts) or '(no table)'}")
            conn.rollback()
    print(f"\nsequential scans of large tables on hot paths: {len(flagged)}")
    for name, table, statement in flagged:
        print(f"  {name}: {table}: …{' '.join(statement.split())[-260:]}")
    sys.exit(1 if flagged else 0)


if __name__ == "__main__":
    main()
