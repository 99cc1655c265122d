"""One-off jobs survive Redis: each is written to the job outbox in the transaction that asks
for it, a real worker deletes the row once the job has run, and the periodic sweeper sends
again what Redis lost — Redis down at the commit, restarted empty before a worker took the
job, or restarted (and the worker killed) while the job was running. A copy of a job that
already ran does nothing."""
import shutil
import time
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue

from app import jobs
from app.extensions import db
from app.models import AuditEvent, EnterpriseFiling, HighRiskListing, JobOutbox
from tests.conftest import require_service
from tests.escrow.test_redis_restart import PrivateRedis
from tests.filing.conftest import open_task, processes  # noqa: F401  (fixture)
from tests.security.procs import kill9, run_worker, start_worker

NOW = timedelta(0)


def pings(note=None):
    query = db.select(AuditEvent).where(AuditEvent.action == "jobs.ping")
    return [e.after["note"] for e in db.session.scalars(query) if note in (None, e.after["note"])]


def outbox():
    db.session.expire_all()
    return db.session.scalars(db.select(JobOutbox)).all()


def wait_for(condition, what, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting until {what}")


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


def test_a_job_row_lives_exactly_as_long_as_its_job_has_not_run(app):
    jobs.enqueue("workers.demo.record_ping", "rolled back")
    db.session.rollback()
    assert outbox() == [] and pings() == []

    jobs.enqueue("workers.demo.record_ping", "ran")
    row_id = db.session.scalars(db.select(JobOutbox.id)).one()  # written in the transaction itself
    db.session.commit()  # in-process: runs now
    assert pings() == ["ran"] and outbox() == []
    jobs.execute("workers.demo.record_ping", ["ran"], {}, row_id)  # a late copy of the same job
    assert pings() == ["ran"]

    jobs.enqueue("workers.no_such_module.job", 1, retries=0)
    db.session.commit()
    [failed] = outbox()
    assert failed.status == "failed" and "ModuleNotFoundError" in failed.error and failed.attempts == 1
    assert jobs.sweep(grace=NOW) == 0  # a failed job waits for a person, it is not run for ever

    jobs.enqueue("workers.demo.record_ping", "periodic", durable=False)  # the scheduler's jobs
    db.session.commit()
    assert pings("periodic") == ["periodic"] and len(outbox()) == 1


def test_a_filing_escalation_asked_for_while_redis_is_down_runs_once_redis_is_back(
        private_redis, processes, database_url, tmp_path, factory, login_as):  # noqa: F811
    enterprise = factory.enterprise(name="拒备物业")
    factory.community(enterprise=enterprise, name="乾州小区")
    center, enterprise_user = login_as("housing_center"), login_as("enterprise", org=enterprise)
    assert center.post("/filing/demands/new", data={
        "enterprise_id": enterprise.id, "deadline": "2099-03-16", "finding": "巡查发现"}).status_code == 302
    filing = db.session.scalar(db.select(EnterpriseFiling))
    task = open_task(filing.instance_id, "submit_on_demand")

    private_redis.kill()
    refused = enterprise_user.post(f"/tasks/{task.id}", data={"action": "complete", "response": "refuse",
                                                             "refusal_reason": "我司认为无需备案"})
    assert refused.status_code == 302  # the refusal is kept although its job could not be queued
    assert db.session.get(EnterpriseFiling, filing.id).status == "refused"
    [row] = [r for r in outbox() if r.func_path == "workers.filing.start_escalation"]
    assert row.status == "pending" and row.args == [filing.id]

    private_redis.start()
    assert jobs.sweep(grace=timedelta(minutes=5)) == 0  # not yet: it may still be on its way
    assert jobs.sweep(grace=NOW) >= 1  # the sweeper after its grace period
    assert jobs.sweep(grace=NOW) == 0  # queued in Redis now: not sent twice
    run_worker(database_url, private_redis.url, tmp_path)
    listings = db.session.scalars(db.select(HighRiskListing).where(HighRiskListing.enterprise_id == enterprise.id))
    assert len(listings.all()) == 1
    assert outbox() == []


def test_a_job_lost_in_a_redis_restart_before_any_worker_took_it_is_sent_again(private_redis, database_url,
                                                                               tmp_path):
    jobs.enqueue("workers.demo.record_ping", "survives a restart")
    db.session.commit()
    assert Queue("default", connection=Redis.from_url(private_redis.url)).count == 1
    private_redis.kill()
    private_redis.start()  # empty: nothing on disk
    run_worker(database_url, private_redis.url, tmp_path)
    assert pings() == [] and len(outbox()) == 1

    assert jobs.sweep(grace=NOW) == 1
    run_worker(database_url, private_redis.url, tmp_path)
    assert pings() == ["survives a restart"] and outbox() == []
    assert jobs.sweep(grace=NOW) == 0


def test_redis_restarted_while_a_job_runs_loses_and_doubles_nothing(private_redis, database_url, tmp_path):
    hold = tmp_path / "hold"
    hold.touch()
    jobs.enqueue("tests.security.slow_jobs.held_ping", "running during the restart", str(hold))
    db.session.commit()
    worker = start_worker(database_url, private_redis.url, tmp_path)
    try:
        wait_for(lambda: [r.status for r in outbox()] == ["running"], "the worker took the job")
        private_redis.kill()
        private_redis.start()
        hold.unlink()
        wait_for(lambda: outbox() == [], "the job finished", seconds=90)
    finally:
        kill9(worker)
    assert pings() == ["running during the restart"]
    assert jobs.sweep(grace=NOW, stale=NOW) == 0
    run_worker(database_url, private_redis.url, tmp_path)
    assert pings() == ["running during the restart"]


def test_a_worker_killed_mid_job_with_redis_restarted_empty_runs_it_once_after_restart(private_redis, database_url,
                                                                                      tmp_path):
    hold = tmp_path / "hold"
    hold.touch()
    jobs.enqueue("tests.security.slow_jobs.held_ping", "killed mid-job", str(hold))
    db.session.commit()
    worker = start_worker(database_url, private_redis.url, tmp_path)
    try:
        wait_for(lambda: [r.status for r in outbox()] == ["running"], "the worker took the job")
    finally:
        kill9(worker)  # kill -9 of the worker and its work horse, mid-job
    hold.unlink()
    private_redis.kill()
    private_redis.start()
    [row] = outbox()
    assert row.status == "running" and row.attempts == 1 and pings() == []

    assert jobs.sweep(grace=NOW) == 0  # a claim this fresh may belong to a live worker
    assert jobs.sweep(grace=NOW, stale=NOW) == 1  # a claim older than any job may run: its worker is dead
    run_worker(database_url, private_redis.url, tmp_path)
    assert pings() == ["killed mid-job"] and outbox() == []
