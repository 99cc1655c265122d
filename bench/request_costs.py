"""What one request of each kind in the load test costs, one at a time, in-process (Flask's
test client) on the seeded province database: client CPU and wall time per request, and
the SQL statements it runs. The load test (bench/load.py) says how the mix behaves when the
two cores are full; this says where each request's share of them goes.

    /work/main/.venv/bin/python bench/province_seed.py --db wuye_bench_requests --scale 0.05 --drop
    /work/main/.venv/bin/python bench/request_costs.py --db wuye_bench_requests [--requests 200] [--only inbox,case]

With REDIS_URL set the public pages are cached in Redis, as in production (else in the process).

Endpoints: the inbox (an enterprise's, the housing center's), a case page, the public pages,
a signed bank notification and device push, a task completion through the API. Each is
warmed up with 5 requests, then timed over --requests.
"""
import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def endpoints(app, plan: dict) -> dict:
    """name → a function making one request of that kind (and returning the response)."""
    from load import QR_CROWD, STEP_DATA
    from app.integrations.signing import sign_headers

    def signed_in(username):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"username": username, "password": plan["password"],
                                               "csrf_token": token})
        assert response.status_code == 302, f"login of {username}: {response.status_code}"
        return client

    enterprise = signed_in(sorted(u for u in plan["inbox_users"] if u.startswith("bench_ent"))[0])
    center, anonymous, api = signed_in(plan["supervisor"]), app.test_client(), app.test_client()
    pools = [(token, list(ids)) for token, ids in plan["tasks"].items()]
    serials = iter(range(10 ** 9))

    def complete():
        token, ids = random.choice([pool for pool in pools if pool[1]])
        return api.post(f"/api/v1/tasks/{ids.pop()}/complete", json=STEP_DATA,
                        headers={"Authorization": f"Bearer {token}"})

    def signed(source):
        key = f"R{plan['run']}-{next(serials)}"
        if source == "bank":
            body = {"type": "transaction", "account_no": random.choice(plan["accounts"]), "serial": key,
                    "amount": "128.50", "direction": "credit", "counterparty": "业主", "memo": "物业费"}
        else:
            body = {"event_id": key, "device_serial": random.choice(plan["devices"]), "type": "door_open",
                    "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}
        data, path = json.dumps(body).encode(), plan[f"{source}_path"]
        return anonymous.post(path, data=data, headers={"Content-Type": "application/json",
                                                        **sign_headers(plan[f"{source}_secret"], "wuye", "POST",
                                                                       path, data)})

    return {
        "inbox (enterprise)": lambda: enterprise.get("/inbox"),
        "inbox (housing center)": lambda: center.get("/inbox"),
        "case page": lambda: center.get(f"/cases/{random.choice(plan['cases'])}"),
        "public community page": lambda: anonymous.get(
            f"/public/evaluation/communities/{random.choice(plan['communities'])}"),
        "public community page (QR crowd)": lambda: anonymous.get(
            f"/public/evaluation/communities/{random.choice(plan['communities'][:QR_CROWD])}"),
        "public high-risk list": lambda: anonymous.get("/public/high-risk"),
        "public ranking": lambda: anonymous.get("/public/evaluation/ranking"),
        "bank callback": lambda: signed("bank"),
        "device callback": lambda: signed("device"),
        "task completion (API)": complete,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="wuye_bench_requests")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", default="", help="comma-separated words; endpoints whose name holds one")
    args = parser.parse_args()
    os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp())
    import load
    from province_seed import sa_url
    from sqlalchemy import event
    from app import create_app
    from app.extensions import db
    plan = load.prepare(args.db, f"r{os.getpid()}", os.devnull, per_pool=args.requests + 10)
    app = create_app({"SQLALCHEMY_DATABASE_URI": sa_url(args.db), "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    with app.app_context():
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(1))
    words = [w for w in args.only.split(",") if w]
    print(f"{'endpoint':<34}{'CPU ms':>8}{'wall ms':>9}{'statements':>12}   ({args.requests} requests each, in-process)")
    for name, request in endpoints(app, plan).items():
        if words and not any(w in name for w in words):
            continue
        for _ in range(5):
            response = request()
            assert response.status_code == 200, (name, response.status_code, response.get_data(as_text=True)[:200])
        statements.clear()
        request()
        count = len(statements)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(args.requests):
            response = request()
            assert response.status_code == 200, (name, response.status_code)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"{name:<34}{1000 * cpu / args.requests:>8.2f}{1000 * wall / args.requests:>9.2f}{count:>12}", flush=True)


if __name__ == "__main__":
    main()
