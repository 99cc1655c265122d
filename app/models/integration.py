"""Nonces of signed callbacks already accepted: a replayed request is refused."""
from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class IntegrationNonce(db.Model):
    id = db.Column(db.BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    source = db.Column(db.String(40), nullable=False)  # bank | devices | hotline
    nonce = db.Column(db.String(100), nullable=False)
    seen_at = db.Column(UTCDateTime(), nullable=False, default=utcnow, index=True)

    __table_args__ = (db.UniqueConstraint("source", "nonce"),)
