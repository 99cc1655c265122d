"""`flask ops status`: what monitoring polls. Quiet (exit 0) when all is well; exit 1 with
the figure when a case is in error or timers fall behind; queue depths from the real Redis."""
import json
from datetime import datetime, timedelta, timezone

from redis import Redis

from app import jobs
from app.extensions import db
from app.models import ProcessInstance
from tests.engine.test_timer_claims import due_instance


def status(runner):
    result = runner.invoke(args=["ops", "status"])
    return result.exit_code, json.loads(result.output)


def test_quiet_when_nothing_is_wrong(app, runner):
    code, figures = status(runner)
    assert code == 0
    assert figures == {"queues": None, "incidents": 0, "timers_overdue": 0, "service_calls_failed": 0,
                       "service_calls_stuck": 0, "open_tasks": 0}


def test_an_incident_and_a_timer_backlog_are_reported(app, runner, deployed, factory, clock):
    instance_id = due_instance(factory, clock)  # deadline in 2025, never advanced: a backlog
    code, figures = status(runner)
    assert code == 1 and figures["timers_overdue"] == 1 and figures["incidents"] == 0 and figures["open_tasks"] == 1

    instance = db.session.get(ProcessInstance, instance_id)
    instance.status, instance.incident = "error", "bank unreachable"
    db.session.commit()
    code, figures = status(runner)
    assert code == 1 and figures["incidents"] == 1 and figures["timers_overdue"] == 0


def test_a_timer_due_only_just_now_is_not_a_backlog(app, runner, deployed, factory, clock):
    instance_id = due_instance(factory, clock)
    db.session.get(ProcessInstance, instance_id).next_timer_at = datetime.now(timezone.utc) - timedelta(seconds=30)
    db.session.commit()
    code, figures = status(runner)
    assert code == 0 and figures["timers_overdue"] == 0


def test_queue_depths_come_from_redis(app, runner, redis_url):
    Redis.from_url(redis_url).flushdb()
    app.config["REDIS_URL"] = redis_url
    try:
        jobs.enqueue("workers.engine.tick", queue="timers")
        jobs.enqueue("workers.engine.tick", queue="timers")
        db.session.commit()
        code, figures = status(runner)
        assert code == 0
        assert figures["queues"]["timers"] == {"queued": 2, "failed": 0, "started": 0}
        assert figures["queues"]["default"]["queued"] == 0
    finally:
        Redis.from_url(redis_url).flushdb()
        app.config["REDIS_URL"] = None
