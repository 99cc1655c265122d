"""Redis restarted mid-run (it keeps nothing on disk here): the job of an approved
disbursement is lost, or Redis is down when the approval commits. The approval itself is
kept, the engine's periodic sweep re-queues the call from the database, a real worker pays
it, and the money moves once."""
import shutil
import socket
import subprocess
import time
from decimal import Decimal

import pytest
from redis import Redis
from rq import Queue

from app.engine import runtime
from app.extensions import db
from app.models import DisbursementRequest, LedgerTxn, ServiceCall
from tests.conftest import require_service
from tests.engine.test_external_worker import run_worker
from tests.escrow.conftest import approve_a_disbursement, bank_balance


class PrivateRedis:
    """A redis-server of this test's own, so it can be killed and restarted empty."""

    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                Redis.from_url(self.url).ping()
                return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self):
        self.process.kill()
        self.process.wait()


@pytest.fixture
def private_redis(app):
    if shutil.which("redis-server") is None:
        require_service("redis-server", FileNotFoundError("redis-server"))
    server = PrivateRedis()
    server.start()
    app.config["REDIS_URL"] = server.url
    yield server
    app.config["REDIS_URL"] = None
    if server.process.poll() is None:
        server.kill()


def assert_paid_once(req, setup, bank_url):
    db.session.expire_all()
    assert db.session.get(DisbursementRequest, req.id).status == "paid"
    assert bank_balance(bank_url, setup["account"].account_no) == Decimal("50000.00")
    assert db.session.scalar(db.select(db.func.count(LedgerTxn.id)).where(LedgerTxn.kind == "disbursement")) == 1


def test_a_job_lost_in_a_redis_restart_is_requeued_from_the_database(private_redis, database_url, tmp_path, setup,
                                                                     bank_url, factory):
    req = approve_a_disbursement(setup, bank_url, factory)
    assert Queue("bank", connection=Redis.from_url(private_redis.url)).count + \
        Queue("default", connection=Redis.from_url(private_redis.url)).count == 1
    private_redis.kill()  # before any worker ran: the queued job is gone
    private_redis.start()
    assert Redis.from_url(private_redis.url).dbsize() == 0
    run_worker(database_url, private_redis.url, bank_url, tmp_path)
    db.session.expire_all()
    assert db.session.get(DisbursementRequest, req.id).status == "approved"  # nothing ran: nothing was paid

    assert runtime.requeue_stuck_calls(older_than_seconds=0) == 1  # the scheduler's periodic sweep
    assert runtime.requeue_stuck_calls(older_than_seconds=0) == 1  # a second sweep queues a duplicate job…
    run_worker(database_url, private_redis.url, bank_url, tmp_path)
    assert_paid_once(req, setup, bank_url)  # …which finds the call claimed and pays nothing
    assert db.session.scalar(db.select(ServiceCall)).attempts == 1


def test_redis_down_when_the_approval_commits_loses_nothing(private_redis, database_url, tmp_path, setup, bank_url,
                                                            factory):
    private_redis.kill()
    req = approve_a_disbursement(setup, bank_url, factory)  # commits although the job cannot be queued
    db.session.expire_all()
    assert db.session.get(DisbursementRequest, req.id).status == "approved"
    assert db.session.scalar(db.select(ServiceCall)).status == "pending"

    private_redis.start()
    assert runtime.requeue_stuck_calls(older_than_seconds=0) == 1
    run_worker(database_url, private_redis.url, bank_url, tmp_path)
    assert_paid_once(req, setup, bank_url)
