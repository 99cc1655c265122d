"""Background jobs: RQ on Redis when REDIS_URL is set, in-process otherwise.

`enqueue` never sends a job before the transaction that asked for it commits: a job that
ran against uncommitted (or rolled-back) data would act on a state that never existed.
Jobs are named by dotted path and take plain ids, never ORM objects.

Each job is also written to the outbox table (app.models.jobs.JobOutbox) in that same
transaction, so Redis losing it (restarted empty, flushed, or down at the commit) loses
nothing: the periodic `sweep` sends again what has not run. The worker claims the row
before running the job (so two copies never run at once) and deletes it after. A job may
therefore run again when its worker dies between its work and that delete: every durable
job must be idempotent — workers.filing/contracts.start_escalation (one open listing per
enterprise), workers.evaluation.start_settlements (one case per account and year),
workers.devices.start_repair / deliver_healthy (one process per case, message ids),
workers.engine.run_service_call (the call's own claim) and app.services.long_jobs.run
(a finished job is left alone). The scheduler's periodic jobs are not durable
(`durable=False`): the scheduler sends them again anyway.
"""
import importlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)
PENDING_KEY = "wuye_pending_jobs"
# The sweeper sends a pending job again when it has waited this long and Redis does not
# hold it; a job claimed this long ago and never finished lost its worker (RQ kills a job
# after its 180 s timeout, so a live one never gets this old).
SWEEP_GRACE = timedelta(minutes=2)
STALE_CLAIM = timedelta(minutes=15)


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
    outbox_id: str | None = None


def enqueue(func_path: str, *args, queue: str = "default", job_id: str | None = None,
            retries: int = 0, retry_intervals=(10, 60, 300), delay_seconds: int = 0, durable: bool = True,
            **kwargs) -> None:
    """Queue `func_path(*args, **kwargs)` to run after the current transaction commits
    (after `delay_seconds` on RQ; in-process jobs run at once). A durable job is kept in the
    outbox until it has run."""
    from app.models import JobOutbox
    from app.models.base import utcnow
    db.session.connection()  # make sure a transaction is open, so a rollback discards the job
    outbox_id = None
    if durable:
        outbox_id = uuid.uuid4().hex
        db.session.add(JobOutbox(id=outbox_id, func_path=func_path, args=list(args), kwargs=kwargs, queue=queue,
                                 retries=retries, run_after=utcnow() + timedelta(seconds=delay_seconds)))
    db.session.info.setdefault(PENDING_KEY, []).append(
        JobRequest(func_path, args, kwargs, queue, job_id, retries, tuple(retry_intervals), delay_seconds, outbox_id)
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


def _rq_job_id(request: JobRequest) -> str | None:
    return request.job_id or (f"outbox-{request.outbox_id}" if request.outbox_id else None)


def _send(app, request: JobRequest) -> None:
    if app.config.get("REDIS_URL"):
        from rq import Queue, Retry
        retry = Retry(max=request.retries, interval=list(request.retry_intervals)) if request.retries else None
        queue = Queue(request.queue, connection=redis_connection(app))
        options = dict(job_id=_rq_job_id(request), retry=retry, description=request.func_path)
        call = ("workers.runner.run", request.func_path, list(request.args), request.kwargs, request.outbox_id)
        if request.delay_seconds:
            queue.enqueue_in(timedelta(seconds=request.delay_seconds), *call, **options)
        else:
            queue.enqueue(*call, **options)
    else:
        run_inline(app, request)


def run_inline(app, request: JobRequest) -> None:
    """Embedded mode: run the job now, in its own app context and so its own session."""
    with app.app_context():
        try:
            execute(request.func_path, request.args, request.kwargs, request.outbox_id)
        except Exception:
            log.exception("in-process job %s failed", request.func_path)
            db.session.rollback()
        finally:
            db.session.remove()


# ---------------------------------------------------------------- running a job, the outbox

def execute(func_path: str, args, kwargs, outbox_id: str | None = None):
    """Run one job (from a worker or in-process). A durable job runs only if it can claim
    its outbox row: none left means it already ran (this is a copy), a fresh claim means
    another copy is running."""
    if outbox_id is not None and not _claim(outbox_id):
        log.info("job %s (%s) already ran or is running: skipped", outbox_id, func_path)
        return None
    try:
        result = resolve(func_path)(*args, **kwargs)
    except Exception as e:
        db.session.rollback()
        if outbox_id is not None:
            _failed(outbox_id, e)
        raise
    db.session.rollback()  # what the job did not commit is not part of its work (as before the outbox)
    if outbox_id is not None:
        from app.models import JobOutbox
        db.session.execute(db.delete(JobOutbox).where(JobOutbox.id == outbox_id))
        db.session.commit()
    return result


def _claim(outbox_id: str) -> bool:
    from app.models import JobOutbox
    from app.models.base import utcnow
    moment = utcnow()
    claimed = db.session.execute(db.update(JobOutbox).where(JobOutbox.id == outbox_id, db.or_(
        JobOutbox.status == "pending",
        db.and_(JobOutbox.status == "running", JobOutbox.started_at < moment - STALE_CLAIM)))
        .values(status="running", started_at=moment, attempts=JobOutbox.attempts + 1)).rowcount
    db.session.commit()
    return claimed == 1


def _failed(outbox_id: str, error: Exception) -> None:
    """Back to pending while RQ has retries left (the retry, or the sweeper, runs it again);
    failed for good after the last one, kept for a person to look at."""
    from app.models import JobOutbox
    row = db.session.get(JobOutbox, outbox_id)
    if row is not None:
        row.status = "pending" if row.attempts <= row.retries else "failed"
        row.error = f"{type(error).__name__}: {error}"[:2000]
        db.session.commit()


def sweep(grace: timedelta = SWEEP_GRACE, stale: timedelta = STALE_CLAIM) -> int:
    """Periodic: send again every durable job that has not run and is not waiting in Redis
    (Redis restarted empty, was flushed or was down at the commit), and every job whose
    worker died holding its claim. Sent after this transaction commits, like any job."""
    from app.models import JobOutbox
    from app.models.base import utcnow
    if not run_alone("jobs.sweep"):
        return 0
    moment = utcnow()
    rows = db.session.scalars(db.select(JobOutbox).where(db.or_(
        db.and_(JobOutbox.status == "pending", JobOutbox.run_after <= moment - grace,
                db.or_(JobOutbox.sent_at.is_(None), JobOutbox.sent_at <= moment - grace)),
        db.and_(JobOutbox.status == "running", JobOutbox.started_at <= moment - stale)))
        .order_by(JobOutbox.run_after).limit(1000)).all()
    waiting = _waiting_in_redis([row.id for row in rows if row.status == "pending"])
    pending = db.session.info.setdefault(PENDING_KEY, [])
    sent = 0
    for row in rows:
        if row.id in waiting:
            continue
        row.status, row.sent_at = "pending", moment  # a stale claim is given up: its worker is gone
        pending.append(JobRequest(row.func_path, tuple(row.args), dict(row.kwargs), row.queue, retries=row.retries,
                                  outbox_id=row.id))
        sent += 1
    db.session.commit()
    if sent:
        log.warning("job outbox: sent %d jobs again", sent)
    return sent


def _waiting_in_redis(outbox_ids: list[str]) -> set[str]:
    """Those of the jobs Redis still holds, queued or scheduled (none in the embedded mode)."""
    if not outbox_ids or not current_app.config.get("REDIS_URL"):
        return set()
    from rq.job import Job, JobStatus
    connection = redis_connection()
    waiting = set()
    for outbox_id in outbox_ids:
        job_id = f"outbox-{outbox_id}"
        if Job.exists(job_id, connection) and Job.fetch(job_id, connection=connection).get_status() in (
                JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED):
            waiting.add(outbox_id)
    return waiting


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
        except Exception:  # Redis down: the data and the outbox row are committed; the sweeper sends it later
            log.exception("could not queue job %s after commit", request.func_path)


def _after_rollback(session: Session, previous) -> None:
    if previous is not None and previous.nested:
        return  # a SAVEPOINT rolled back: a job queued inside it lost its outbox row, and its claim will fail
    session.info.pop(PENDING_KEY, None)


def init_app(app) -> None:
    if not getattr(init_app, "_listening", False):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)
        init_app._listening = True
