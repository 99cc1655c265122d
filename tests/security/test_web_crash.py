"""kill -9 of the web server (gunicorn, master and workers) while users complete tasks as
fast as they can, twice, then a restart: every case is still consistent — its stored
workflow has exactly the ready user task its inbox row shows, every completion in the
inbox has its event in the case timeline — and every case goes on through the restarted
server. A task completion is one transaction, so a kill leaves it done or not done."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from SpiffWorkflow.util.task import TaskState

from app.engine import runtime
from app.engine.deploy import deploy
from app.extensions import db
from app.models import HumanTask, InstanceEvent, ProcessInstance
from app.services import users

pytestmark = pytest.mark.postgres_only
BPMN = Path(__file__).resolve().parents[2] / "bpmn"
CASES = 12


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, database_url, instance_path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        self.env = {**env, "DATABASE_URL": database_url, "INSTANCE_PATH": str(instance_path), "SECRET_KEY": "drill"}
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4", "--bind",
             f"127.0.0.1:{self.port}", "app:create_app()"],
            env=self.env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/login", timeout=5).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or still starting up
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def kill9(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


def work(server, database_url, tokens, stop, stats, lock):
    """Complete whatever task is open on the cases, round and round, until told to stop."""
    engine = sa.create_engine(database_url)
    session = requests.Session()
    try:
        while not stop.is_set():
            with engine.connect() as conn:
                open_tasks = conn.execute(sa.text(
                    "SELECT id, spec_id FROM human_task WHERE status = 'open' ORDER BY random() LIMIT 4")).all()
            for task_id, spec_id in open_tasks:
                body = {"title": "年度材料", "amount": "1200.00"} if spec_id == "submit" else \
                    {"decision": "revise", "comment": "请补充材料"}
                with lock:
                    stats["in_flight"] += 1
                try:
                    r = session.post(f"{server.url}/api/v1/tasks/{task_id}/complete", json=body, timeout=30,
                                     headers={"Authorization": f"Bearer {tokens[spec_id]}"})
                    outcome = "ok" if r.status_code == 200 else "refused"
                except requests.RequestException:
                    outcome = "broken"  # the server died under this request
                    time.sleep(0.05)
                with lock:
                    stats["in_flight"] -= 1
                    stats[outcome] += 1
    finally:
        engine.dispose()


def kill_mid_request(server, stats, lock, ok_before):
    """Kill once real work has been done in this round and a request is in flight, however
    slow the machine is today."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with lock:
            if stats["ok"] - ok_before >= 10 and stats["in_flight"] > 0:
                server.kill9()
                return
        time.sleep(0.01)
    raise AssertionError(f"no work got done in 120 s: {stats}")


def test_kill_9_of_the_web_server_mid_request_loses_and_doubles_nothing(app, factory, database_url, tmp_path):
    deploy("demo_review", (BPMN / "demo_review.bpmn").read_text(encoding="utf-8"))
    enterprise = factory.enterprise(name="乾元物业")
    tokens = {"submit": users.issue_token(factory.user("enterprise", org=enterprise), "drill"),
              "review": users.issue_token(factory.user("housing_center"), "drill")}
    cases = [runtime.start("demo_review", title=f"演示案件 {n}", orgs={"enterprise_id": enterprise.id}).id
             for n in range(CASES)]
    db.session.commit()

    server = Server(database_url, tmp_path)
    stats = {"ok": 0, "refused": 0, "broken": 0, "in_flight": 0}
    lock = threading.Lock()
    try:
        for _round in range(2):
            server.start()
            stop = threading.Event()
            ok_before = stats["ok"]
            workers = [threading.Thread(target=work, args=(server, database_url, tokens, stop, stats, lock))
                       for _ in range(4)]
            for w in workers:
                w.start()
            kill_mid_request(server, stats, lock, ok_before)  # the workers post completions as fast as they can
            time.sleep(0.3)
            stop.set()
            for w in workers:
                w.join(timeout=60)
        server.start()
        assert stats["ok"] >= 20, stats  # real work was going on when the server died
        assert stats["broken"] >= 1, stats  # and at least one request was cut off by the kill

        db.session.expire_all()
        for instance_id in cases:
            instance = db.session.get(ProcessInstance, instance_id)
            wf = runtime._load(instance)
            ready = {str(t.id) for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id in ("submit", "review")}
            rows = db.session.scalars(db.select(HumanTask).where(HumanTask.instance_id == instance_id)).all()
            assert ready == {r.task_uuid for r in rows if r.status == "open"} and len(ready) == 1, instance_id
            events = db.session.scalar(db.select(db.func.count(InstanceEvent.id)).where(
                InstanceEvent.instance_id == instance_id, InstanceEvent.kind == "task_completed"))
            assert events == sum(1 for r in rows if r.status == "completed"), instance_id

        # Every case goes on through the restarted server.
        for instance_id in cases:
            task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                                HumanTask.status == "open"))
            body = {"title": "补充材料", "amount": "1200.00"} if task.spec_id == "submit" else \
                {"decision": "revise", "comment": "再补充"}
            r = requests.post(f"{server.url}/api/v1/tasks/{task.id}/complete", json=body, timeout=30,
                              headers={"Authorization": f"Bearer {tokens[task.spec_id]}"})
            assert r.status_code == 200, r.text
    finally:
        server.stop()
