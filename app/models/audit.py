"""The audit log: who did what to which record, with before/after values."""
from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class AuditEvent(db.Model):
    id = db.Column(db.BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    at = db.Column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id"), index=True)
    actor_name = db.Column(db.String(64), nullable=False, default="")
    action = db.Column(db.String(60), nullable=False, index=True)
    target_type = db.Column(db.String(60), nullable=False, default="")
    target_id = db.Column(db.String(60), nullable=False, default="")
    before = db.Column(db.JSON)
    after = db.Column(db.JSON)
    ip = db.Column(db.String(45), nullable=False, default="")
    # Hash chain, filled in id order by the sealing job (app.services.audit.seal): each entry's
    # hash covers its content and the previous entry's hash, so an edited or deleted row shows.
    prev_hash = db.Column(db.String(64))
    hash = db.Column(db.String(64))

    actor = db.relationship("User")

    __table_args__ = (db.Index("ix_audit_event_target", "target_type", "target_id"),)
