"""Engine benchmark: prints, on SQLite and on PostgreSQL, for a process of 5 user tasks in 3
lanes with a gateway (bench/bench_five.bpmn):
  (1) the floor: raw SpiffWorkflow deserialize → complete → engine steps → serialize, per step;
  (2) completions through the service layer (persistence, optimistic lock, inbox projection,
      the new task's notification to the one user of its role), in ten rounds, each after a
      measure of (1): (2)/(1) is the median of the rounds' multiples;
  (3) completions through the HTTP API (token auth, form validation): in-process through
      Flask's test client (answering with the whole case, and with only its id and status),
      and, on PostgreSQL, against a real gunicorn over loopback HTTP: one sync worker with a
      keep-alive client, and two workers (one per core) with four clients at once;
plus the per-instance state size and the inbox query p95 with many open and completed tasks.
(2) and (3) time the completions themselves: the benchmark's own look-up of each case's next
task (a statement a user, who has the task's id from the inbox, does not make) is left out.

    .venv/bin/python bench/engine.py [--cases 200] [--open 100000] [--completed 1000000]

It creates and drops its own PostgreSQL database (127.0.0.1, trust auth) and a temporary SQLite file.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
BPMN = (ROOT / "bench" / "bench_five.bpmn").read_text(encoding="utf-8")
DATA = {"title": "基准", "amount": "100.00"}


def floor_per_step(n: int) -> tuple[float, float]:
    """(wall ms, CPU ms) per step."""
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    from app.engine import specs
    from app.engine.scripting import RestrictedEnvironment, WuyeScriptEngine
    spec, subs = specs.parse(BPMN)
    engine = WuyeScriptEngine(environment=RestrictedEnvironment())
    steps, elapsed, cpu = 0, 0.0, 0.0
    for i in range(n + 10):
        if i == 10:  # the first runs are slower (cold caches, first calls): not the floor
            steps, elapsed, cpu = 0, 0.0, 0.0
        wf = BpmnWorkflow(spec, subs, script_engine=engine)
        wf.do_engine_steps()
        state = specs.serializer.to_dict(wf)
        while True:
            t0, c0 = time.perf_counter(), time.process_time()
            wf = specs.serializer.from_dict(state)
            wf.script_engine = engine
            ready = wf.get_tasks(state=TaskState.READY, manual=True)
            if not ready:
                break
            ready[0].data.update(DATA)
            ready[0].run()
            wf.do_engine_steps()
            state = specs.serializer.to_dict(wf)
            elapsed += time.perf_counter() - t0
            cpu += time.process_time() - c0
            steps += 1
    return elapsed / steps * 1000, cpu / steps * 1000


def make_app(url: str, instance_path: str):
    os.environ["INSTANCE_PATH"] = instance_path
    from app import create_app
    from flask_migrate import upgrade
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "PASSWORD_HASH_PROFILE": "CHEAPEST",
                      "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade(revision="heads")
    return app


@contextmanager
def bench_database(prefix: str):
    """A PostgreSQL database of its own (127.0.0.1, trust auth) with the app on it and
    bench_five deployed; dropped afterwards."""
    admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        app = make_app(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", tempfile.mkdtemp())
        from app.engine.deploy import deploy
        from app.extensions import db
        with app.app_context():
            deploy("bench_five", BPMN)
        yield app
        with app.app_context():
            db.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def service_layer(app, cases: int, rounds: int = 10) -> dict:
    """(2) in `rounds` batches of the cases, each after a measure of the floor: this machine's
    speed drifts by half within minutes, so each round's multiple compares two figures taken
    at nearly the same time, and the median of the rounds is the one printed. Returns the
    completions/s, the state bytes, the client CPU ms per completion, and the median
    multiples of the floor in wall time and in CPU (with that floor's median)."""
    from app.engine import runtime
    from app.engine.deploy import deploy
    from app.extensions import db
    from app.models import HumanTask, ProcessInstance
    from tests.factories import Factory
    with app.app_context():
        deploy("bench_five", BPMN)
        enterprise = Factory().enterprise()
        # A user of every lane's role, as in (3): each new task is told to someone, as in use
        # (until 2026-12-06 this user was an admin alone, and nobody was told of any task).
        user = Factory().user("admin", roles=["admin", "enterprise", "housing_center", "natural_resources"],
                              org=enterprise)
        ids = [runtime.start("bench_five", title="基准", orgs={"enterprise_id": enterprise.id}).id for _ in range(cases)]
        state_size = len(json.dumps(db.session.get(ProcessInstance, ids[0]).state))
        done, elapsed, cpu, floors, walls, cpus = 0, 0.0, 0.0, [], [], []
        for batch in (ids[n::rounds] for n in range(rounds)):
            floor, floor_cpu = floor_per_step(30)
            batch_done, batch_elapsed, batch_cpu = 0, 0.0, 0.0
            for instance_id in batch:
                while True:
                    task_id = db.session.scalar(db.select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                                             HumanTask.status == "open"))
                    if task_id is None:
                        break
                    t0, c0 = time.perf_counter(), time.process_time()
                    runtime.complete_task(task_id, DATA, user)
                    batch_elapsed += time.perf_counter() - t0
                    batch_cpu += time.process_time() - c0
                    batch_done += 1
            done, elapsed, cpu = done + batch_done, elapsed + batch_elapsed, cpu + batch_cpu
            floors.append(floor)
            walls.append(batch_elapsed / batch_done * 1000 / floor)
            cpus.append(batch_cpu / batch_done * 1000 / floor_cpu)
        return {"rate": done / elapsed, "state": state_size, "cpu": cpu / done * 1000, "floor": statistics.median(floors),
                "wall_multiple": statistics.median(walls), "cpu_multiple": statistics.median(cpus),
                "multiples": walls}


def api_cases(app, cases: int) -> tuple[str, list[int]]:
    """A token for a user who may act on every task of bench_five, and `cases` new cases."""
    from app.engine import runtime
    from app.extensions import db
    from app.services import users
    from tests.factories import Factory
    with app.app_context():
        enterprise = Factory().enterprise()
        user = Factory().user("admin", roles=["admin", "enterprise", "housing_center", "natural_resources"], org=enterprise)
        token = users.issue_token(user)
        ids = [runtime.start("bench_five", title="基准", orgs={"enterprise_id": enterprise.id}).id for _ in range(cases)]
        db.session.remove()
    return token, ids


def complete_all(app, ids: list[int], post) -> float:
    """Complete every task of the cases through `post(task_id)`; completions per second."""
    from app.extensions import db
    from app.models import HumanTask
    done, elapsed = 0, 0.0
    for instance_id in ids:
        while True:
            with app.app_context():
                task_id = db.session.scalar(db.select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                                         HumanTask.status == "open"))
            if task_id is None:
                break
            t0 = time.perf_counter()
            status, body = post(task_id)
            elapsed += time.perf_counter() - t0
            assert status == 200, body
            done += 1
    return done / elapsed


def http_api(app, cases: int, minimal: bool = False) -> float:
    """(3) in-process: Flask's test client, no sockets; with `minimal`, each completion asks
    for only the case's id and status (`Prefer: return=minimal`), not the whole case."""
    token, ids = api_cases(app, cases)
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    if minimal:
        headers["Prefer"] = "return=minimal"

    def post(task_id):
        response = client.post(f"/api/v1/tasks/{task_id}/complete", json=DATA, headers=headers)
        return response.status_code, response.get_json()
    return complete_all(app, ids, post)


def http_gunicorn(app, url: str, instance_path: str, cases: int, port: int = 18044, workers: int = 1,
                  clients: int = 1) -> float:
    """(3) over the wire: gunicorn (`workers` sync workers) on the same database, keep-alive
    clients. One client: completions one after the other, the benchmark's look-ups left out.
    Several: each its own cases at the same time, following each case by the open task its
    completion answers with (no look-up), completions over the wall time of them all."""
    import threading

    import requests
    from processes import spawn, stop_all
    token, ids = api_cases(app, cases)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": instance_path,
           "RATELIMIT_ENABLED": "false", "REDIS_URL": ""}
    proc = spawn([str(Path(sys.executable).parent / "gunicorn"), "--workers", str(workers), "--bind",
                  f"127.0.0.1:{port}", "--log-level", "warning", "--keep-alive", "75", "app:create_app()"],
                 cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"

    def client():
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        return session
    try:
        for _ in range(120):
            try:
                if client().get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        if clients == 1:
            session = client()

            def post(task_id):
                response = session.post(f"{base}/api/v1/tasks/{task_id}/complete", json=DATA, timeout=30)
                return response.status_code, response.text[:300]
            return complete_all(app, ids, post)
        from app.extensions import db
        from app.models import HumanTask
        with app.app_context():
            first = dict(db.session.execute(db.select(HumanTask.instance_id, HumanTask.id).where(
                HumanTask.instance_id.in_(ids), HumanTask.status == "open")).all())
        done, failures = [0] * clients, []

        def run(n):
            session = client()
            for instance_id in ids[n::clients]:
                task_id = first[instance_id]
                while task_id is not None:
                    response = session.post(f"{base}/api/v1/tasks/{task_id}/complete", json=DATA, timeout=30)
                    if response.status_code != 200:
                        failures.append(response.text[:300])
                        return
                    done[n] += 1
                    task_id = next((t["id"] for t in response.json()["open_tasks"]), None)
        threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
        t0 = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - t0
        assert not failures, failures[:3]
        return sum(done) / elapsed
    finally:
        stop_all([proc])


def inbox_p95(app, open_tasks: int, completed: int) -> float:
    """Fill the projection with synthetic rows, then time the 'open tasks for my roles' query.
    The rows arrive a second apart, as tasks do: with one created_at for all of them the
    page's order (created_at, id) could only be had by sorting every open task of the role."""
    from app.extensions import db
    from app.models import HumanTask, ProcessInstance
    from app.permissions import actionable_tasks
    from app.models.base import utcnow
    from tests.factories import Factory
    with app.app_context():
        instance_id = db.session.scalar(db.select(ProcessInstance.id).limit(1))
        user = Factory().user("housing_center")
        roles = ["housing_center", "street_office", "natural_resources", "fire_brigade", "enterprise"]
        now = utcnow()
        batch = []
        conn = db.session.connection()
        for i in range(open_tasks + completed):
            batch.append({"instance_id": instance_id, "task_uuid": str(uuid.uuid4()), "spec_id": "t", "name": "任务",
                          "lane": "", "role": roles[i % len(roles)], "form_key": "", "title": f"案件{i}",
                          "model_key": "bench_five", "status": "open" if i < open_tasks else "completed",
                          "created_at": now - timedelta(seconds=i), "enterprise_id": i % 20000})
            if len(batch) == 20000:
                conn.execute(sa.insert(HumanTask), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(HumanTask), batch)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":  # as autovacuum leaves a table after a bulk insert
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE human_task"))
        times = []
        for _ in range(200):
            t0 = time.perf_counter()
            query = actionable_tasks(user).where(HumanTask.status == "open", HumanTask.claimed_by_id.is_(None))
            db.session.scalars(query.order_by(HumanTask.created_at, HumanTask.id).limit(25)).all()
            db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.quantiles(times, n=20)[18]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--completed", type=int, default=1_000_000)
    args = parser.parse_args()
    floor, floor_cpu = floor_per_step(50)
    print(f"(1) floor, raw SpiffWorkflow per step: {floor:.2f} ms ({1000 / floor:.0f} steps/s; {floor_cpu:.2f} ms CPU)")
    admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    pg_name = f"wuye_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{pg_name}"'))
    try:
        tmp = tempfile.mkdtemp()
        for label, url in (("SQLite", f"sqlite:///{tmp}/bench.sqlite"),
                           ("PostgreSQL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}")):
            app = make_app(url, tmp)
            found = service_layer(app, args.cases)
            per_step = 1000 / found["rate"]
            print(f"[{label}] (2) service layer: {found['rate']:.0f} completions/s ({per_step:.2f} ms); "
                  f"state per instance {found['state'] / 1024:.1f} KB")
            print(f"[{label}] (2)/(1): {found['wall_multiple']:.1f}× the floor (median of 10 rounds, each against "
                  f"the floor measured just before it: {' '.join(f'{m:.1f}' for m in found['multiples'])}; "
                  f"the floor's median {found['floor']:.2f} ms)")
            # The benchmark process's own CPU (the database's work excluded): steadier on a busy machine.
            print(f"[{label}] (2) client CPU per completion: {found['cpu']:.2f} ms, {found['cpu_multiple']:.1f}× "
                  f"the floor's CPU (median of the rounds)")
            print(f"[{label}] (3) HTTP API, in-process test client: {http_api(app, max(args.cases // 2, 10)):.0f} "
                  f"completions/s")
            print(f"[{label}] (3) HTTP API, in-process, answering only the outcome (Prefer: return=minimal): "
                  f"{http_api(app, max(args.cases // 2, 10), minimal=True):.0f} completions/s")
            if label == "PostgreSQL":
                rate = http_gunicorn(app, url, tmp, max(args.cases // 2, 10))
                print(f"[{label}] (3) HTTP API, gunicorn over loopback HTTP: {rate:.0f} completions/s")
                # As deployed (docker-compose: several workers), one per core here, with users at once.
                rate = http_gunicorn(app, url, tmp, max(args.cases, 20), port=18045, workers=2, clients=4)
                print(f"[{label}] (3) HTTP API, gunicorn 2 workers, 4 clients at once: {rate:.0f} completions/s")
                print(f"[{label}] inbox query p95 with {args.open:,} open and {args.completed:,} completed tasks: "
                      f"{inbox_p95(app, args.open, args.completed):.1f} ms")
            with app.app_context():
                from app.extensions import db
                db.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
