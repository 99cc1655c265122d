"""What operations watches (docs/operations.md): the depth of each RQ queue and its failed
jobs, cases in error (incidents), timers overdue by more than the scheduler's slack, and
external service calls stuck or failed. Read-only; cheap enough to poll every minute
(every count goes through an index)."""
from datetime import timedelta

from flask import current_app

from app.engine.calendar import now
from app.extensions import db
from app.models import HumanTask, ProcessInstance, ServiceCall

TIMER_SLACK = timedelta(minutes=5)  # the tick runs every 10 s: a timer later than this is a backlog


def queue_depths() -> dict | None:
    """{queue: {"queued": n, "failed": n, "started": n}}, or None in embedded mode (no Redis)."""
    if not current_app.config.get("REDIS_URL"):
        return None
    from rq import Queue
    from app.jobs import redis_connection
    connection = redis_connection()
    result = {}
    for name in current_app.config["RQ_QUEUES"]:
        queue = Queue(name, connection=connection)
        result[name] = {"queued": len(queue), "failed": queue.failed_job_registry.count,
                        "started": queue.started_job_registry.count}
    return result


def status() -> dict:
    def count(query):
        return db.session.scalar(db.select(db.func.count()).select_from(query.subquery()))

    late = now() - TIMER_SLACK
    return {
        "queues": queue_depths(),
        "incidents": count(db.select(ProcessInstance.id).where(ProcessInstance.status == "error")),
        "timers_overdue": count(db.select(ProcessInstance.id).where(
            ProcessInstance.next_timer_at < late, ProcessInstance.status.in_(("running", "waiting")))),
        "service_calls_failed": count(db.select(ServiceCall.id).where(ServiceCall.status == "failed")),
        "service_calls_stuck": count(db.select(ServiceCall.id).where(
            ServiceCall.status.in_(("pending", "running")), ServiceCall.updated_at < now() - timedelta(minutes=10))),
        "open_tasks": count(db.select(HumanTask.id).where(HumanTask.status == "open")),
    }
