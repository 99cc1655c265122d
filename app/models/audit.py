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
    # Hash chain, filled by the sealing job (app.services.audit.seal) in the order it finds
    # entries committed: chain_seq is the entry's place in the chain (1, 2, 3 … without gaps),
    # its hash covers its content and the previous entry's hash, so an edited or deleted row shows.
    chain_seq = db.Column(db.BigInteger().with_variant(db.Integer, "sqlite"), unique=True)
    prev_hash = db.Column(db.String(64))
    hash = db.Column(db.String(64))

    actor = db.relationship("User")

    __table_args__ = (db.Index("ix_audit_event_target", "target_type", "target_id"),)


class AuditChainHead(db.Model):
    """One row: how long the sealed chain is and its last hash, written by the sealer in the
    transaction that extends the chain, so deleting the newest sealed entries shows."""
    id = db.Column(db.Integer, primary_key=True)
    entries = db.Column(db.BigInteger().with_variant(db.Integer, "sqlite"), nullable=False, default=0)
    last_id = db.Column(db.BigInteger().with_variant(db.Integer, "sqlite"))
    last_hash = db.Column(db.String(64), nullable=False)
    sealed_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
