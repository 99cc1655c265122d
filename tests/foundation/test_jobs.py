"""Jobs run only after the transaction commits: in-process by default, on RQ with Redis."""
import os
import subprocess
import sys

from redis import Redis
from rq import Queue

from app import jobs
from app.extensions import db
from app.models import AuditEvent


def pings():
    return [e.after["note"] for e in db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "jobs.ping"))]


def test_in_process_job_runs_after_commit_and_not_after_rollback(app):
    jobs.enqueue("workers.demo.record_ping", "rolled back")
    db.session.rollback()
    assert pings() == []
    jobs.enqueue("workers.demo.record_ping", "committed")
    assert pings() == []  # not yet: the transaction has not committed
    db.session.commit()
    assert pings() == ["committed"]


def test_a_savepoint_is_not_the_commit_a_job_waits_for(app):
    """Operators run inside SAVEPOINTs; a job they queue must still wait for the real commit."""
    db.session.connection()
    with db.session.begin_nested():
        jobs.enqueue("workers.demo.record_ping", "after the outer commit")
    assert pings() == []
    db.session.commit()
    assert pings() == ["after the outer commit"]


def test_rq_job_is_queued_after_commit_and_run_by_a_real_worker(redis_app, redis_url, database_url, tmp_path):
    queue = Queue("default", connection=Redis.from_url(redis_url))
    jobs.enqueue("workers.demo.record_ping", "via redis")
    assert queue.count == 0
    db.session.commit()
    assert queue.count == 1
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(tmp_path),
           "SECRET_KEY": "test", "FLASK_APP": "app"}
    result = subprocess.run([sys.executable, "-m", "flask", "worker", "--burst"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    db.session.expire_all()
    assert pings() == ["via redis"]
    assert queue.count == 0


def test_worker_refuses_to_start_without_redis(runner):
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL" in result.output
