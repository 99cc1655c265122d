"""Long jobs: a row in long_job tracks each run, the work runs in a worker (in-process in
the embedded mode) and reports its progress, and the page polls that row.

A job's work is a function registered in RUNNERS by kind: ``work(job, step)`` where
``step(percent, message)`` records progress (committed at once, so the page sees it while
the work goes on); it returns the Attachment it produced, or None (an import, whose result
is in the database; its last message says what was done). Input the work refuses
(ValidationFailed, e.g. an import's bad rows) ends the job 'rejected' with the reasons, and
nothing changed; starting it again would not help. Work must be safe to run again:
a worker killed mid-job leaves the row 'running' without heartbeat, and whoever started it
(or a supervisor) may start it again.
"""
import importlib
import logging
from datetime import timedelta

from flask_babel import gettext as _

from app import jobs
from app.engine.calendar import now
from app.extensions import db
from app.models import LongJob
from app.permissions import may_supervise, reads_all
from app.services import audit
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed

log = logging.getLogger(__name__)
RUNNERS: dict = {}  # kind → work(job, step) -> Attachment, registered with @runner by:
RUNNER_MODULES = ("app.services.reports", "app.services.fees", "app.services.filing", "app.services.evaluation",
                  "app.services.disputes")
STALL_AFTER = timedelta(minutes=10)


def runner(kind: str):
    def register(func):
        RUNNERS[kind] = func
        return func
    return register


def start(kind: str, title: str, actor, **params) -> LongJob:
    job = LongJob(kind=kind, title=title, params=params, created_by_id=actor.id, message=_("排队等待处理"))
    db.session.add(job)
    db.session.flush()
    audit.record("long_job.started", job, after={"kind": kind, "params": params})
    jobs.enqueue("app.services.long_jobs.run", job.id, queue="default")
    db.session.commit()
    return job


def run(job_id: int) -> None:
    """The worker's entry point."""
    job = db.session.get(LongJob, job_id)
    if job is None or job.status == "done":
        return
    for module in RUNNER_MODULES:
        importlib.import_module(module)
    job.status, job.attempts, job.error = "running", job.attempts + 1, None
    _step(job, 0, _("开始处理"))
    try:
        attachment = RUNNERS[job.kind](job, lambda percent, message: _step(job, percent, message))
    except ValidationFailed as e:
        db.session.rollback()
        job = db.session.get(LongJob, job_id)
        job.status, job.updated_at, job.message = "rejected", now(), e.message[:300]
        job.error = "\n".join(e.fields.values()) or e.message
        db.session.commit()
        return
    except Exception as e:
        db.session.rollback()
        job = db.session.get(LongJob, job_id)
        job.status, job.error, job.updated_at = "failed", f"{type(e).__name__}: {e}"[:2000], now()
        job.message = _("处理失败，可重新开始。")
        db.session.commit()
        log.exception("long job %s failed", job_id)
        return
    job.status, job.progress = "done", 100
    if attachment is not None:
        job.message, job.attachment_id = _("已完成"), attachment.id
    job.finished_at, job.updated_at = now(), now()
    db.session.commit()


def _step(job: LongJob, percent: int, message: str) -> None:
    job.progress, job.message, job.updated_at = max(0, min(100, int(percent))), str(message)[:300], now()
    db.session.commit()


def stalled(job: LongJob) -> bool:
    """Running (or queued) without a sign of life for STALL_AFTER: its worker has died."""
    return job.status in ("queued", "running") and job.updated_at < now() - STALL_AFTER


def get_for(user, job_id: int) -> LongJob:
    job = db.session.get(LongJob, job_id)
    if job is None or (job.created_by_id != user.id and not reads_all(user)):
        raise NotFound(_("没有这项任务。"))
    return job


def restart(user, job_id: int) -> LongJob:
    """By whoever started the job, or a supervisor (not everyone who may read it)."""
    job = get_for(user, job_id)
    if job.created_by_id != user.id and not may_supervise(user):
        raise Forbidden(_("只有发起人或住保中心可以重新开始这项任务。"))
    if not (job.status == "failed" or stalled(job)):
        raise Conflict(_("任务正在处理或已完成，不能重新开始。"))
    job.status, job.progress, job.message, job.updated_at = "queued", 0, _("排队等待处理"), now()
    audit.record("long_job.restarted", job)
    jobs.enqueue("app.services.long_jobs.run", job.id, queue="default")
    db.session.commit()
    return job


def recent(user, kind: str, limit: int = 20) -> list[LongJob]:
    query = db.select(LongJob).where(LongJob.kind == kind).order_by(LongJob.id.desc()).limit(limit)
    if not reads_all(user):
        query = query.where(LongJob.created_by_id == user.id)
    return db.session.scalars(query).all()
