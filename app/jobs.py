"""Background jobs: RQ on Redis when REDIS_URL is set, in-process otherwise.

`enqueue` never sends a job before the transaction that asked for it commits: a job that
ran against uncommitted (or rolled-back) data would act on a state that never existed.
Jobs are named by dotted path and take plain ids, never ORM objects.
"""
import importlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)
PENDING_KEY = "wuye_pending_jobs"


@dataclass
class JobRequest:
    func_path: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    queue: str = "default"
    job_id: str | None = None
    retries: int = 0
    retry_intervals: tuple = (10, 60, 300)
    delay_seconds: int = 0


def enqueue(func_path: str, *args, queue: str = "default", job_id: str | None = None,
            retries: int = 0, retry_intervals=(10, 60, 300), delay_seconds: int = 0, **kwargs) -> None:
    """Queue `func_path(*args, **kwargs)` to run after the current transaction commits
    (after `delay_seconds` on RQ; in-process jobs run at once)."""
    db.session.connection()  # make sure a transaction is open, so a rollback discards the job
    db.session.info.setdefault(PENDING_KEY, []).append(
        JobRequest(func_path, args, kwargs, queue, job_id, retries, tuple(retry_intervals), delay_seconds)
    )


def run_alone(name: str) -> bool:
    """Take the periodic job `name`'s lock for this transaction: True if taken, False if
    another run (a second scheduler's, an overlapping tick) holds it and this one should stop.
    A PostgreSQL advisory transaction lock, released at commit or rollback; SQLite has a
    single writer and the embedded scheduler runs one job at a time."""
    if db.engine.dialect.name != "postgresql":
        return True
    return bool(db.session.scalar(db.text("SELECT pg_try_advisory_xact_lock(hashtext(:name))"), {"name": name}))


def resolve(func_path: str):
    module, _, name = func_path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def redis_connection(app=None):
    from redis import Redis
    app = app or current_app
    return Redis.from_url(app.config["REDIS_URL"])


def _send(app, request: JobRequest) -> None:
    if app.config.get("REDIS_URL"):
        from rq import Queue, Retry
        retry = Retry(max=request.retries, interval=list(request.retry_intervals)) if request.retries else None
        queue = Queue(request.queue, connection=redis_connection(app))
        options = dict(job_id=request.job_id, retry=retry, description=request.func_path)
        if request.delay_seconds:
            queue.enqueue_in(timedelta(seconds=request.delay_seconds), "workers.runner.run", request.func_path,
                             list(request.args), request.kwargs, **options)
        else:
            queue.enqueue("workers.runner.run", request.func_path, list(request.args), request.kwargs, **options)
    else:
        run_inline(app, request)


def run_inline(app, request: JobRequest) -> None:
    """Embedded mode: run the job now, in its own app context and so its own session."""
    with app.app_context():
        try:
            resolve(request.func_path)(*request.args, **request.kwargs)
        except Exception:
            log.exception("in-process job %s failed", request.func_path)
            db.session.rollback()
        finally:
            db.session.remove()


def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # SQLAlchemy fires this on a SAVEPOINT's release too; wait for the real commit
    pending = session.info.pop(PENDING_KEY, None)
    if not pending or not has_app_context():
        return
    app = current_app._get_current_object()
    for request in pending:
        try:
            _send(app, request)
        except Exception:  # Redis down: the data is committed; the engine's sweep re-queues lost service calls
            log.exception("could not queue job %s after commit", request.func_path)


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def init_app(app) -> None:
    if not getattr(init_app, "_listening", False):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", lambda s, prev: _after_rollback(s))
        init_app._listening = True
