"""Long jobs (report generation, batch evaluation, large imports): run by a worker, their
progress kept in the database so the page can show it whoever runs the job, and a job
whose worker died can be seen as stalled and started again."""
from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class LongJob(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(40), nullable=False, index=True)  # annual_report | …
    title = db.Column(db.String(200), nullable=False)
    params = db.Column(db.JSON, nullable=False, default=dict)
    status = db.Column(db.String(20), nullable=False, default="queued")  # queued | running | done | failed
    progress = db.Column(db.Integer, nullable=False, default=0)  # percent
    message = db.Column(db.String(300), nullable=False, default="")
    error = db.Column(db.Text)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    attachment_id = db.Column(db.Integer, db.ForeignKey("attachment.id"))
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    finished_at = db.Column(UTCDateTime())

    attachment = db.relationship("Attachment")
    created_by = db.relationship("User")
