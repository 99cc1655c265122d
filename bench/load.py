"""Mixed-load test: gunicorn (several workers) on PostgreSQL and Redis with RQ workers
running, driven by locust; prints throughput and latency percentiles per endpoint, then
checks that nothing was lost (every completed task recorded once, every bank callback
posted once, every device event stored once).

    /work/main/.venv/bin/python bench/province_seed.py --db wuye_province --scale 0.01 --drop
    /work/main/.venv/bin/python bench/load.py --db wuye_province [--users 40] [--seconds 60]
        [--web-workers 4] [--rq-workers 2]

Needs the `bench` extra (locust), or LOCUST=/path/to/locust. The same file is the locustfile: run directly it starts
gunicorn, the RQ workers and a headless locust, and stops them all when done.
Traffic: inbox pages, task completions (API), case pages, public pages (PUBLIC_PAGES),
signed bank notifications and device-platform event pushes, some of them sent twice (each
must be applied once). The figures count from when every user has been started
(locust's --reset-stats): the sustained load, not the ramp-up's Argon2 logins.
"""
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAN = os.environ.get("WUYE_LOAD_PLAN")
STEP_DATA = {"title": "基准", "amount": "100.00"}

# Public pages anyone may open; {community} is filled with a seeded community id.
# Add a page here when it exists (e.g. the community disclosure page).
PUBLIC_PAGES = [
    ("/public/high-risk", "public high-risk list"),
    ("/public/evaluation/communities/{community}", "public community page"),
    ("/public/evaluation/communities/{community}", "public community page (QR crowd)"),
    ("/public/evaluation/ranking", "public ranking"),
]
# "(QR crowd)": owners scanning the codes on a few notice boards (the first QR_CROWD of the
# drawn communities), the cached page the target is about; the plain community page is
# drawn from all of them, mostly a page no process has rendered in the last minute.
QR_CROWD = 20

if PLAN and __name__ != "__main__":  # ---------------------------------------------- the locustfile
    from locust import HttpUser, between, events, task

    sys.path.insert(0, str(ROOT))
    from app.integrations.signing import sign_headers

    plan = json.loads(Path(PLAN).read_text())
    pools = {token: list(ids) for token, ids in plan["tasks"].items()}
    completed, attempted, callbacks, sent, lock = [], [], {}, [], threading.Lock()
    device_acks, pushed = {}, []
    serial_counter = iter(range(1, 10 ** 9))

    def login(client, username):
        page = client.get("/login", name="login page").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"username": username, "password": plan["password"],
                                               "csrf_token": token}, name="login", allow_redirects=False)
        assert response.status_code == 302, f"login of {username} failed: {response.status_code}"

    def post_signed(client, source: str, key: str, body: bytes, sent: list, acks: dict) -> None:
        """POST a signed callback once, or in one case of five twice (same body, fresh nonce),
        recording what was sent and what was acknowledged."""
        with lock:
            sent.append(key)
        path = plan[f"{source}_path"]
        for _ in range(2 if random.random() < 0.2 else 1):
            headers = {"Content-Type": "application/json",
                       **sign_headers(plan[f"{source}_secret"], "wuye", "POST", path, body)}
            response = client.post(path, data=body, headers=headers, name=f"{source} callback")
            if response.status_code == 200:
                with lock:
                    acks.setdefault(key, []).append(response.json().get("status", "ok"))

    class InboxUser(HttpUser):
        weight = 4
        wait_time = between(0.1, 0.6)

        def on_start(self):
            login(self.client, random.choice(plan["inbox_users"]))

        @task
        def inbox(self):
            self.client.get("/inbox", name="inbox")

    class CaseViewer(HttpUser):
        weight = 2
        wait_time = between(0.1, 0.6)

        def on_start(self):
            login(self.client, plan["supervisor"])

        @task
        def case_page(self):
            self.client.get(f"/cases/{random.choice(plan['cases'])}", name="case page")

    class Completer(HttpUser):
        weight = 2
        wait_time = between(0.1, 0.6)

        @task
        def complete(self):
            with lock:
                candidates = [t for t, ids in pools.items() if ids]
                if not candidates:
                    return
                token = random.choice(candidates)
                task_id = pools[token].pop()
                attempted.append(task_id)
            with self.client.post(f"/api/v1/tasks/{task_id}/complete", json=STEP_DATA, name="task completion",
                                  headers={"Authorization": f"Bearer {token}"}, catch_response=True) as response:
                if response.status_code == 200:
                    with lock:
                        completed.append(task_id)
                else:
                    response.failure(f"{response.status_code} {response.text[:200]}")

    class PublicVisitor(HttpUser):
        weight = 3
        wait_time = between(0.1, 0.5)

        @task
        def public_page(self):
            path, name = random.choice(PUBLIC_PAGES)
            communities = plan["communities"][:QR_CROWD] if name.endswith("(QR crowd)") else plan["communities"]
            self.client.get(path.format(community=random.choice(communities)), name=name)

    class BankCallback(HttpUser):
        """The custodian bank notifying incoming owner payments; one in five is resent
        (same serial, fresh nonce), as a bank does when it missed our acknowledgement."""
        weight = 1
        wait_time = between(0.1, 0.6)

        @task
        def notify(self):
            serial = f"LOAD{plan['run']}-{next(serial_counter)}"
            body = json.dumps({"type": "transaction", "account_no": random.choice(plan["accounts"]),
                               "serial": serial, "amount": "128.50", "direction": "credit",
                               "counterparty": "业主", "memo": "物业费"}).encode()
            post_signed(self.client, "bank", serial, body, sent, callbacks)

    class DeviceCallback(HttpUser):
        """The device platform pushing events; one in five is pushed again (same event id,
        fresh nonce), as the platform does until it is acknowledged."""
        weight = 1
        wait_time = between(0.1, 0.6)

        @task
        def push(self):
            event_id = f"LOAD{plan['run']}-d{next(serial_counter)}"
            body = json.dumps({"event_id": event_id, "device_serial": random.choice(plan["devices"]),
                               "type": "door_open", "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00",
                                                                                time.gmtime())}).encode()
            post_signed(self.client, "device", event_id, body, pushed, device_acks)

    @events.test_stop.add_listener
    def save_results(environment, **kwargs):
        Path(plan["results"]).write_text(json.dumps({"completed": completed, "attempted": attempted,
                                                  "callbacks": callbacks, "sent": sent,
                                                  "device_acks": device_acks, "pushed": pushed}))


# ---------------------------------------------------------------------- the orchestrator

def prepare(db_name: str, run: str, results: str, per_pool: int) -> dict:
    """Tokens, task pools and ids the locust users need, read from the seeded database."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp())
    from app import create_app
    from app.extensions import db
    from app.models import Community, Device, EscrowAccount, HumanTask, ProcessInstance, User
    from app.services import users
    sys.path.insert(0, str(ROOT / "bench"))
    from province_seed import BENCH_PASSWORD, sa_url
    app = create_app({"SQLALCHEMY_DATABASE_URI": sa_url(db_name), "SECRET_KEY": "bench"})
    with app.app_context():
        bench_users = db.session.scalars(db.select(User).where(User.username.like("bench_%"))).all()
        tasks = {}
        for user in bench_users:
            role = next(iter(user.roles))
            query = db.select(HumanTask.id).where(HumanTask.status == "open", HumanTask.role == role,
                                                  HumanTask.claimed_by_id.is_(None))
            if role == "enterprise":
                query = query.where(HumanTask.enterprise_id == user.enterprise_id)
            ids = db.session.scalars(query.order_by(HumanTask.id).limit(per_pool)).all()
            if ids:
                tasks[users.issue_token(user, name=f"load {run}")] = ids
        db.session.commit()
        cases = db.session.scalars(db.select(ProcessInstance.id).where(ProcessInstance.status == "running")
                                   .order_by(db.func.random()).limit(2000)).all()
        communities = db.session.scalars(db.select(Community.id).order_by(db.func.random()).limit(2000)).all()
        accounts = db.session.scalars(db.select(EscrowAccount.account_no).order_by(db.func.random()).limit(500)).all()
        devices = db.session.scalars(db.select(Device.serial).order_by(db.func.random()).limit(500)).all()
        device_secret = app.config["DEVICE_SECRET"]
        secret = app.config["BANK_SECRET"]
        usernames = [u.username for u in bench_users]
        db.engine.dispose()
    return {"run": run, "results": results, "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "password": BENCH_PASSWORD, "tasks": tasks, "cases": cases,
            "communities": communities, "accounts": accounts, "bank_secret": secret,
            "bank_path": "/api/v1/integrations/bank/notifications", "devices": devices,
            "device_secret": device_secret, "device_path": "/api/v1/integrations/devices/events", "supervisor": "bench_center",
            "inbox_users": usernames}


def wait_http(url: str, seconds: float = 60) -> None:
    import requests
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not come up")


def print_stats(prefix: str) -> dict:
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv", encoding="utf-8")))
    print(f"\n{'endpoint':<26}{'requests':>9}{'fails':>7}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}{'max':>8}  (ms)")
    figures = {}
    for row in rows:
        name = row["Name"] or "?"
        figures[name] = row
        print(f"{name:<26}{row['Request Count']:>9}{row['Failure Count']:>7}{float(row['Requests/s']):>8.1f}"
              f"{row['50%']:>7}{row['95%']:>7}{row['99%']:>7}{float(row['Max Response Time']):>8.0f}")
    return figures


def check_nothing_lost(db_name: str, plan: dict, results: dict) -> bool:
    """Every task completion the app acknowledged is recorded once (task completed, one
    timeline entry per completion), and nothing changed that was not asked for; every
    acknowledged bank notification is one ledger transaction of two entries, resends
    included. A request cut off when the run stopped may have been applied unacknowledged:
    it must then be applied once too."""
    import psycopg
    from province_seed import PG
    completed, attempted = set(results["completed"]), results["attempted"]
    callbacks, sent = results["callbacks"], set(results["sent"])
    ok = True
    with psycopg.connect(f"{PG}/{db_name}") as conn:
        done = dict(conn.execute("SELECT id, instance_id FROM human_task WHERE id = ANY(%s) AND status = 'completed'",
                                 (attempted,)).fetchall())
        per_instance = {}
        for instance_id in done.values():
            per_instance[instance_id] = per_instance.get(instance_id, 0) + 1
        events = dict(conn.execute(
            "SELECT instance_id, count(*) FROM instance_event WHERE kind = 'task_completed' "
            "AND at >= %s AND instance_id = ANY(%s) GROUP BY instance_id",
            (plan["started_at"], list(per_instance))).fetchall())
        mismatched = [i for i, n in per_instance.items() if events.get(i, 0) != n]
        lost = completed - set(done)
        print(f"\ntask completions: {len(completed)} acknowledged, {len(attempted) - len(completed)} cut off or refused; "
              f"completed in the database: {len(done)}; acknowledged but not recorded: {len(lost)}; "
              f"instances whose timeline count differs: {len(mismatched)}")
        ok &= not lost and not mismatched
        txns = dict(conn.execute("SELECT bank_serial, count(*) FROM ledger_txn WHERE bank_serial LIKE %s "
                                 "GROUP BY bank_serial", (f"LOAD{plan['run']}-%",)).fetchall())
        entries = conn.execute("SELECT count(*) FROM ledger_entry e JOIN ledger_txn t ON t.id = e.txn_id "
                               "WHERE t.bank_serial LIKE %s", (f"LOAD{plan['run']}-%",)).fetchone()[0]
        resent = sum(1 for s in callbacks.values() if len(s) > 1)
        posted_twice = [s for s, n in txns.items() if n != 1]
        missing = [s for s in callbacks if s not in txns]
        unasked = [s for s in txns if s not in sent]
        print(f"bank callbacks: {len(sent)} sent, {len(callbacks)} acknowledged ({resent} resent); ledger transactions "
              f"{len(txns)}, entries {entries}; acknowledged but missing {len(missing)}, posted twice "
              f"{len(posted_twice)}, never sent {len(unasked)}")
        ok &= not missing and not posted_twice and not unasked and entries == 2 * len(txns)
        acks, pushed = results["device_acks"], set(results["pushed"])
        stored = dict(conn.execute("SELECT event_id, count(*) FROM device_event WHERE event_id LIKE %s "
                                   "GROUP BY event_id", (f"LOAD{plan['run']}-d%",)).fetchall())
        missing = [e for e in acks if e not in stored]
        twice = [e for e, n in stored.items() if n != 1]
        unasked = [e for e in stored if e not in pushed]
        print(f"device callbacks: {len(pushed)} pushed, {len(acks)} acknowledged "
              f"({sum(1 for a in acks.values() if len(a) > 1)} pushed again); events stored {len(stored)}; "
              f"acknowledged but missing {len(missing)}, stored twice {len(twice)}, never pushed {len(unasked)}")
        ok &= not missing and not twice and not unasked
    print("nothing lost: " + ("yes" if ok else "NO"))
    return ok


def main():
    import argparse
    import uuid
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="wuye_province")
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=18016)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    run = uuid.uuid4().hex[:6]
    tmp = Path(tempfile.mkdtemp(prefix="wuye_load_"))
    plan = prepare(args.db, run, str(tmp / "results.json"), per_pool=20000)
    (tmp / "plan.json").write_text(json.dumps(plan))
    from processes import spawn, stop_all
    from province_seed import PG
    env = {**os.environ, "DATABASE_URL": f"{PG}/{args.db}", "REDIS_URL": args.redis, "SECRET_KEY": "bench-load",
           "INSTANCE_PATH": str(tmp), "RATELIMIT_ENABLED": "false", "WUYE_LOAD_PLAN": str(tmp / "plan.json")}
    bin_dir = Path(sys.executable).parent
    procs = []
    try:
        procs.append(spawn([str(bin_dir / "gunicorn"), "--workers", str(args.web_workers), "--threads",
                            str(args.threads), "--bind", f"127.0.0.1:{args.port}", "--log-level", "warning",
                            "--keep-alive", "75",  # above the client's idle time: no reset of a reused connection
                            "app:create_app()"], cwd=ROOT, env=env))
        for _ in range(args.rq_workers):
            procs.append(spawn([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        host = f"http://127.0.0.1:{args.port}"
        wait_http(f"{host}/healthz")
        print(f"gunicorn {args.web_workers}×{args.threads} on {args.db}, {args.rq_workers} RQ workers; "
              f"locust {args.users} users for {args.seconds} s", flush=True)
        locust = os.environ.get("LOCUST") or str(bin_dir / "locust")  # e.g. one installed outside the venv
        subprocess.run([locust, "-f", __file__, "--headless", "-u", str(args.users), "-r",
                        str(max(args.users // 5, 1)), "-t", f"{args.seconds}s", "--host", host, "--csv",
                        str(tmp / "load"), "--only-summary", "--loglevel", "WARNING",
                        "--reset-stats"],  # steady state: count from when every user has been started
                       cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        figures = print_stats(str(tmp / "load"))
        total = figures.get("Aggregated", {})
        print(f"\nmixed load: {float(total.get('Requests/s', 0)):.1f} requests/s, "
              f"{total.get('Failure Count', '?')} failures of {total.get('Request Count', '?')}")
        from redis import Redis
        from rq import Queue
        connection = Redis.from_url(args.redis)
        for _ in range(60):  # let the RQ workers drain what the requests queued
            if sum(len(Queue(q, connection=connection)) for q in ("default", "bank", "devices", "timers")) == 0:
                break
            time.sleep(1)
        ok = check_nothing_lost(args.db, plan, json.loads((tmp / "results.json").read_text()))
    finally:
        stop_all(procs)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    main()
