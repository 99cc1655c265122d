"""The job outbox: each job asked for by a transaction is written in that transaction, so
a job whose message Redis lost (a restart, a flush, Redis down at the commit) is found
again by the sweeper (app.jobs.sweep) and sent once more. A row lives until its job has
run: the worker deletes it then."""
from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class JobOutbox(db.Model):
    id = db.Column(db.String(32), primary_key=True)  # uuid4 hex, chosen before the insert
    func_path = db.Column(db.String(200), nullable=False)
    args = db.Column(db.JSON, nullable=False, default=list)
    kwargs = db.Column(db.JSON, nullable=False, default=dict)
    queue = db.Column(db.String(40), nullable=False, default="default")
    retries = db.Column(db.Integer, nullable=False, default=0)
    status = db.Column(db.String(10), nullable=False, default="pending")  # pending | running | failed
    attempts = db.Column(db.Integer, nullable=False, default=0)
    run_after = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    sent_at = db.Column(UTCDateTime())
    started_at = db.Column(UTCDateTime())
    error = db.Column(db.Text)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (db.Index("ix_job_outbox_status_run_after", "status", "run_after"),)
