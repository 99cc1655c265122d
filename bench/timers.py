"""Due timers at scale: N process instances whose timer is due, advanced by the periodic
timer job (`workers.engine.tick`) on real RQ workers; once with 1 worker process, once with
2 running the job at the same time. Prints the time and rate of each run and checks that no
timer fired twice (one `timer_fired` and one `completed` event per instance).

    /work/main/.venv/bin/python bench/timers.py [--timers 100000] [--workers 1 2]

Uses its own PostgreSQL database (created and dropped) and the `timers` queue of --redis.
Tick jobs are queued back to back (the scheduler queues one every 10 s) so the figure is the
job's throughput, not the scheduler's interval.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from province_seed import PG, copy_rows, create_database, make_app  # noqa: E402
from processes import spawn, stop_all  # noqa: E402


def template(app) -> tuple[int, str, str]:
    """One bench_timer case run through the engine, waiting on its timer: (version id,
    state text, serializer version). The template case itself is removed."""
    from app.engine import runtime
    from app.engine.deploy import deploy
    from app.extensions import db
    with app.app_context():
        deploy("bench_timer", (ROOT / "bench" / "bench_timer.bpmn").read_text(encoding="utf-8"))
        instance = runtime.start("bench_timer", title="模板")
        assert instance.status == "waiting" and instance.next_timer_at is not None
        result = instance.version_id, json.dumps(instance.state), instance.serializer_version
        db.session.execute(db.text("DELETE FROM instance_event WHERE instance_id = :i"), {"i": instance.id})
        db.session.execute(db.text("DELETE FROM process_instance WHERE id = :i"), {"i": instance.id})
        db.session.commit()
        db.engine.dispose()
        return result


def seed_due(dsn: str, n: int, version_id: int, state_text: str, serializer_version: str) -> None:
    """n instances waiting on a timer that fell due a minute ago."""
    from app.models.base import utcnow
    due = utcnow() - timedelta(minutes=1)
    # the timer's deadline is the state's only event value: move it into the past
    text = re.sub(r'"event_value": "[^"]+"', f'"event_value": "{due.isoformat()}"', state_text)
    assert text != state_text
    with psycopg.connect(dsn) as conn:
        conn.execute("TRUNCATE instance_event, process_instance RESTART IDENTITY CASCADE")
        copy_rows(conn, "process_instance",
                  ["version_id", "model_key", "business_key", "title", "subject_type", "status", "state",
                   "serializer_version", "lock_version", "next_timer_at", "started_at"],
                  ((version_id, "bench_timer", uuid.uuid4().hex[:12], f"定时{i}", "", "waiting", text,
                    serializer_version, 1, due, due - timedelta(hours=1)) for i in range(n)))
        conn.commit()
        conn.execute("ANALYZE process_instance")


def due_count(conn) -> int:
    return conn.execute("SELECT count(*) FROM process_instance WHERE next_timer_at <= now() "
                        "AND status IN ('running', 'waiting')").fetchone()[0]


def run_workers(dsn: str, db_name: str, n_workers: int, redis_url: str, tmp: str) -> float:
    from redis import Redis
    from rq import Queue
    queue = Queue("timers", connection=Redis.from_url(redis_url))
    queue.empty()
    env = {**os.environ, "DATABASE_URL": f"{PG}/{db_name}", "REDIS_URL": redis_url, "SECRET_KEY": "bench-timers",
           "INSTANCE_PATH": tmp}
    procs = [spawn([sys.executable, "-m", "flask", "--app", "app", "worker", "-q", "timers"], cwd=ROOT,
                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(n_workers)]
    try:
        time.sleep(3)  # workers up and idle before the clock starts
        t0 = time.perf_counter()
        with psycopg.connect(dsn, autocommit=True) as conn:
            while True:
                remaining = due_count(conn)
                if remaining == 0 and len(queue) == 0 and queue.started_job_registry.count == 0:
                    break
                while len(queue) < 2 * n_workers and remaining:  # keep every worker busy, as a busy scheduler would
                    queue.enqueue("workers.runner.run", "workers.engine.tick", [], {}, description="bench tick")
                time.sleep(0.2)
        return time.perf_counter() - t0
    finally:
        stop_all(procs)
        queue.empty()


def check_once(dsn: str, n: int) -> bool:
    with psycopg.connect(dsn) as conn:
        completed = conn.execute("SELECT count(*) FROM process_instance WHERE status = 'completed'").fetchone()[0]
        fired = dict(conn.execute("SELECT kind, count(*) FROM instance_event WHERE kind IN ('timer_fired', 'completed') "
                                  "GROUP BY kind").fetchall())
        twice = conn.execute("SELECT count(*) FROM (SELECT instance_id FROM instance_event WHERE kind = 'timer_fired' "
                             "GROUP BY instance_id HAVING count(*) > 1) x").fetchone()[0]
    ok = completed == n and fired.get("timer_fired") == n and fired.get("completed") == n and twice == 0
    print(f"    completed {completed:,} of {n:,}; timer_fired events {fired.get('timer_fired', 0):,}, completed events "
          f"{fired.get('completed', 0):,}; instances fired twice: {twice} → {'exactly once' if ok else 'NOT exactly once'}")
    return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--timers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="wuye_timers_")
    os.environ["INSTANCE_PATH"] = tmp
    db_name = f"wuye_bench_timers_{uuid.uuid4().hex[:6]}"
    create_database(db_name, drop=False)
    dsn = f"{PG}/{db_name}"
    ok = True
    try:
        app = make_app(db_name)
        version_id, state_text, serializer_version = template(app)
        rates = {}
        for n_workers in args.workers:
            t0 = time.perf_counter()
            seed_due(dsn, args.timers, version_id, state_text, serializer_version)
            print(f"{args.timers:,} due timers seeded in {time.perf_counter() - t0:.1f} s", flush=True)
            elapsed = run_workers(dsn, db_name, n_workers, args.redis, tmp)
            rates[n_workers] = args.timers / elapsed
            print(f"[{n_workers} RQ worker{'s' if n_workers > 1 else ''}] {args.timers:,} due timers handled in "
                  f"{elapsed:.1f} s: {rates[n_workers]:,.0f} timers/s", flush=True)
            ok &= check_once(dsn, args.timers)
        if len(rates) > 1:
            base = rates[min(rates)]
            print("scaling: " + ", ".join(f"{w} worker(s) {r / base:.2f}×" for w, r in sorted(rates.items())))
    finally:
        if not args.keep:
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
