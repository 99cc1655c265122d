"""Province-sized data on PostgreSQL, fast: 20 000 enterprises, 200 000 communities,
100 000 open and 2 000 000 completed human tasks, 10 000 000 ledger entries, 20 000 smart
devices (at --scale 1).

    /work/main/.venv/bin/python bench/province_seed.py [--db wuye_province] [--scale 0.01] [--drop]

It creates the database (never `postgres` or `test`), migrates it with Alembic, deploys the
bench process (bench/bench_five.bpmn) and a few users, then streams every large table in
with COPY (psycopg 3 `cursor.copy`). Cases are real: one template instance per step of the
process is run through the engine, and its serialized state is cloned with fresh task
UUIDs, so a seeded open task can be completed through the app like any other.
Prints the time per table. Users for the load test: bench_center (住保中心),
bench_nr (自然资源局), bench_ent1..bench_ent20 (enterprises 1..20), password BENCH_PASSWORD.
"""
import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
BENCH_PASSWORD = "Bench2026scale"
FORBIDDEN = {"postgres", "test", "template0", "template1", "wuye"}
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STEP_DATA = {"title": "基准", "amount": "100.00"}
ENTERPRISE_USERS = 20


def sa_url(db_name: str) -> str:
    return PG.replace("postgresql://", "postgresql+psycopg://", 1) + f"/{db_name}"


def create_database(name: str, drop: bool) -> None:
    if name.lower() in FORBIDDEN or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        sys.exit(f"refusing database name {name!r}: use a fresh bench database")
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and not drop:
            sys.exit(f"database {name} exists: pass --drop to recreate it")
        if exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def make_app(db_name: str):
    os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp())
    from flask_migrate import upgrade
    from app import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": sa_url(db_name), "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(revision="heads")
    return app


class Timer:
    def __init__(self):
        self.t0 = time.perf_counter()

    def done(self, label: str, rows: int) -> None:
        elapsed = time.perf_counter() - self.t0
        print(f"{label:<22} {rows:>12,} rows in {elapsed:7.1f} s  ({rows / max(elapsed, 1e-9):,.0f} rows/s)", flush=True)
        self.t0 = time.perf_counter()


def copy_rows(conn, table: str, columns: list[str], rows) -> int:
    n = 0
    with conn.cursor() as cur:
        with cur.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
    return n


def set_sequences(conn, tables: list[str]) -> None:
    for table in tables:
        conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                     f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM \"{table}\"), 1))")


def uscc(n: int) -> str:
    from app.validators import uscc_check_char
    first17 = f"91433{n:012d}"
    return first17 + uscc_check_char(first17)


DEVICE_KINDS = ("elevator", "access", "video", "staff")


def seed_devices(conn, n_comm: int, now) -> int:
    """One smart device in every tenth community (serials DEV00000001…), online, from one supplier."""
    conn.execute("INSERT INTO device_supplier (id, name, uscc, created_at, updated_at) "
                  "VALUES (1, '基准智能设备有限公司', %s, %s, %s) ON CONFLICT DO NOTHING", (uscc(999_999), now, now))
    return copy_rows(conn, "device", ["id", "community_id", "supplier_id", "kind", "serial", "model", "location",
                                      "installed_on", "owner", "status", "status_since", "last_seen_at", "created_at"],
                     ((i, 10 * i - 9, 1, DEVICE_KINDS[i % 4], f"DEV{i:08d}", "基准型号", "1号楼", now.date(),
                       "enterprise", "online", now, now, now) for i in range(1, n_comm // 10 + 1)))


def templates(app):
    """Run one bench_five case through the engine and keep its state before each user task
    (and at the end): [(state_json_text, open_task_row or None, completed_so_far)]."""
    from app.engine import runtime
    from app.engine.deploy import deploy
    from app.extensions import db
    from app.models import Enterprise, HumanTask, ProcessInstance
    with app.app_context():
        deploy("bench_five", (ROOT / "bench" / "bench_five.bpmn").read_text(encoding="utf-8"))
        enterprise = db.session.get(Enterprise, 1)
        instance = runtime.start("bench_five", title="模板", orgs={"enterprise_id": enterprise.id})
        version_id, result, done = instance.version_id, [], 0
        while True:
            db.session.expire_all()
            instance = db.session.get(ProcessInstance, instance.id)
            task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                                 HumanTask.status == "open"))
            snapshot = None if task is None else {c: getattr(task, c) for c in
                                                  ("task_uuid", "spec_id", "name", "lane", "role", "form_key")}
            result.append((json.dumps(instance.state), snapshot, done, instance.serializer_version))
            if task is None:
                break
            from app.models import User
            runtime.complete_task(task.id, STEP_DATA, db.session.get(User, 1))
            done += 1
        # The template case and its rows are replaced by the clones.
        for table in ("instance_event", "human_task", "message_subscription", "service_call"):
            db.session.execute(sa.text(f"DELETE FROM {table} WHERE instance_id = :i"), {"i": instance.id})
        db.session.execute(sa.text("DELETE FROM process_instance WHERE id = :i"), {"i": instance.id})
        db.session.commit()
        return version_id, result


def seed_users(app, enterprises: int) -> None:
    from app.extensions import db
    from app.models import User
    from app.services import users
    with app.app_context():
        app.config["PASSWORD_HASH_PROFILE"] = "CHEAPEST"
        users.create_user("bench_center", BENCH_PASSWORD, ["housing_center"])
        users.create_user("bench_nr", BENCH_PASSWORD, ["natural_resources"])
        for i in range(1, min(ENTERPRISE_USERS, enterprises) + 1):
            users.create_user(f"bench_ent{i}", BENCH_PASSWORD, ["enterprise"], org_id=i)
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count(User.id))) >= 3


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="wuye_province")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--drop", action="store_true", help="drop the database first if it exists")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    s = args.scale
    n_ent, n_comm = max(int(20_000 * s), 20), max(int(200_000 * s), 200)
    n_open, n_completed = max(int(100_000 * s), 100), max(int(2_000_000 * s), 500)
    n_entries = max(int(10_000_000 * s), 1000)
    n_streets, n_accounts = max(int(2_000 * s), 10), max(n_comm // 2, 100)
    rnd = random.Random(args.seed)
    started = time.perf_counter()
    timer = Timer()
    create_database(args.db, args.drop)
    app = make_app(args.db)
    timer.done("create + migrate", 0)

    from app.models.base import utcnow
    now = utcnow()
    dsn = f"{PG}/{args.db}"
    with psycopg.connect(dsn) as conn:
        conn.execute("SET synchronous_commit = off")
        rows = copy_rows(conn, "street_office", ["id", "name", "district", "contact_phone", "created_at", "updated_at"],
                         ((i, f"基准街道{i:05d}", f"区{i % 120}", "", now, now) for i in range(1, n_streets + 1)))
        conn.execute("INSERT INTO bank (id, name, code, created_at, updated_at) VALUES (1, '基准托管银行', 'BENCH', %s, %s)",
                     (now, now))
        conn.commit()
        timer.done("street_office", rows)
        rows = copy_rows(conn, "enterprise",
                         ["id", "name", "uscc", "contact_name", "contact_phone", "address", "filing_status",
                          "under_supervision", "risk_status", "is_public_benefit", "created_at", "updated_at"],
                         ((i, f"基准物业服务有限公司{i:05d}", uscc(i), "", "", "", "filed", i % 3 != 0,
                           "none" if i % 97 else "listed", False, now, now) for i in range(1, n_ent + 1)))
        conn.commit()
        timer.done("enterprise", rows)
        rows = copy_rows(conn, "community",
                         ["id", "name", "address", "street_office_id", "enterprise_id", "households", "floor_area",
                          "annual_receivable_fee", "created_at", "updated_at"],
                         ((i, f"基准小区{i:06d}", "", 1 + i % n_streets, 1 + i % n_ent, 300 + i % 900,
                           Decimal("25000.00"), Decimal(600000 + (i % 500) * 1000), now, now)
                          for i in range(1, n_comm + 1)))
        conn.commit()
        timer.done("community", rows)

    seed_users(app, n_ent)
    version_id, stages = templates(app)
    steps = len(stages) - 1  # user tasks in the process
    final_state, serializer_version = stages[-1][0], stages[-1][3]

    with psycopg.connect(dsn) as conn:
        conn.execute("SET synchronous_commit = off")
        # Open cases: each stands before one of the process's user tasks; its earlier tasks are completed.
        # The history was completed by people not seeded here; bench_center did one task in a thousand.
        instance_cols = ["id", "version_id", "model_key", "business_key", "title", "subject_type", "enterprise_id",
                         "community_id", "street_office_id", "status", "state", "serializer_version",
                         "lock_version", "started_at", "ended_at"]
        task_cols = ["id", "instance_id", "task_uuid", "spec_id", "name", "lane", "role", "form_key", "title",
                     "model_key", "enterprise_id", "community_id", "street_office_id", "status", "created_at",
                     "completed_at", "completed_by_id", "due_at"]
        open_tasks, completed_tasks = [], []
        n_done_instances = max((n_completed - sum(stages[i % steps][2] for i in range(n_open))) // steps, 1)

        def instances():
            task_id = 0
            for i in range(1, n_open + n_done_instances + 1):
                community = rnd.randint(1, n_comm)
                enterprise, street = 1 + community % n_ent, 1 + community % n_streets
                if i <= ENTERPRISE_USERS * 50:  # the load test's enterprise users have cases of their own
                    enterprise = 1 + i % ENTERPRISE_USERS
                started_at = now - timedelta(days=rnd.randint(1, 700), seconds=rnd.randint(0, 86400))
                title = f"基准物业服务有限公司{enterprise:05d} · 基准小区{community:06d}"
                if i <= n_open:
                    state_text, task, done, _ = stages[i % steps]
                    mapping = {u: str(uuid.uuid4()) for u in set(UUID_RE.findall(state_text))}
                    state_text = UUID_RE.sub(lambda m: mapping[m.group(0)], state_text)
                    task_id += 1
                    open_tasks.append((task_id, i, mapping[task["task_uuid"]], task["spec_id"], task["name"],
                                       task["lane"], task["role"], task["form_key"], title, "bench_five", enterprise,
                                       community, street, "open", started_at + timedelta(hours=done),
                                       None, None, started_at + timedelta(days=15)))
                    status, ended = "running", None
                else:
                    state_text, done, status, ended = final_state, steps, "completed", started_at + timedelta(days=9)
                for k in range(done):
                    stage = stages[k][1]
                    task_id += 1
                    at = started_at + timedelta(hours=k + 1)
                    completed_tasks.append((task_id, i, str(uuid.uuid4()), stage["spec_id"], stage["name"],
                                            stage["lane"], stage["role"], stage["form_key"], title, "bench_five",
                                            enterprise, community, street, "completed", at - timedelta(hours=1),
                                            at, 1 if task_id % 1000 == 0 else None, None))
                yield (i, version_id, "bench_five", uuid.uuid4().hex[:12], title, "", enterprise, community, street,
                       status, state_text, serializer_version, done + 1, started_at, ended)

        rows = copy_rows(conn, "process_instance", instance_cols, instances())
        conn.commit()
        timer.done("process_instance", rows)
        rows = copy_rows(conn, "human_task", task_cols, open_tasks)
        timer.done("human_task (open)", rows)
        open_tasks.clear()
        rows = copy_rows(conn, "human_task", task_cols, completed_tasks)
        conn.commit()
        timer.done("human_task (completed)", rows)
        completed_tasks.clear()

        # Escrow: one agreement and account per supervised community, payments as double-entry txns.
        rows = copy_rows(conn, "escrow_agreement",
                         ["id", "community_id", "enterprise_id", "bank_id", "bond_rate", "signed_on", "starts_on",
                          "status", "created_at"],
                         ((i, 2 * i - 1, 1 + (2 * i - 1) % n_ent, 1, Decimal("0.0500"), now.date(), now.date(),
                           "active", now) for i in range(1, n_accounts + 1)))
        rows = copy_rows(conn, "escrow_account",
                         ["id", "agreement_id", "community_id", "enterprise_id", "bank_id", "account_no",
                          "account_name", "payee_account_no", "payee_name", "statement_cursor", "opened_at",
                          "lock_version"],
                         ((i, i, 2 * i - 1, 1 + (2 * i - 1) % n_ent, 1, f"6222{i:012d}", f"基准小区{2 * i - 1:06d}监管账户",
                           f"6228{i:012d}", "基准物业", 0, now, 1) for i in range(1, n_accounts + 1)))
        conn.commit()
        timer.done("escrow agreement+account", rows * 2)
        n_txns = n_entries // 2
        rows = copy_rows(conn, "ledger_txn",
                         ["id", "escrow_account_id", "kind", "amount", "memo", "bank_serial", "booked_at"],
                         ((t, 1 + t % n_accounts, "owner_payment", Decimal(100 + t % 5000), "物业费",
                           f"B{t:014d}", now - timedelta(minutes=t % 500000)) for t in range(1, n_txns + 1)))
        conn.commit()
        timer.done("ledger_txn", rows)

        def entries():
            for t in range(1, n_txns + 1):
                amount, account = Decimal(100 + t % 5000), 1 + t % n_accounts
                yield (2 * t - 1, t, account, "bank", amount)
                yield (2 * t, t, account, "owners", -amount)
        rows = copy_rows(conn, "ledger_entry", ["id", "txn_id", "escrow_account_id", "book", "amount"], entries())
        conn.commit()
        timer.done("ledger_entry", rows)

        rows = seed_devices(conn, n_comm, now)
        conn.commit()
        timer.done("device", rows)

        set_sequences(conn, ["street_office", "bank", "enterprise", "community", "process_instance", "human_task",
                             "escrow_agreement", "escrow_account", "ledger_txn", "ledger_entry", "device_supplier",
                             "device"])
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    timer.done("vacuum analyze", 0)
    with psycopg.connect(dsn) as conn:
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                  for t in ("enterprise", "community", "process_instance", "ledger_entry")}
        by_status = dict(conn.execute("SELECT status, count(*) FROM human_task GROUP BY status").fetchall())
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    print(f"done in {time.perf_counter() - started:.1f} s: {counts}, human_task {by_status}, database {size}")
    print(f"database: {args.db}  (drop it when done: dropdb -h 127.0.0.1 -U postgres {args.db})")


if __name__ == "__main__":
    main()
