"""Users, their roles and API tokens."""
import hashlib

from flask_login import UserMixin

from app.extensions import db
from app.models.base import TimestampMixin, UTCDateTime, utcnow


class User(UserMixin, TimestampMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64), unique=True, nullable=False)
    display_name = db.Column(db.String(100), nullable=False, default="")
    password_hash = db.Column(db.String(255), nullable=False)
    active = db.Column(db.Boolean, nullable=False, default=True)
    locale = db.Column(db.String(10))
    failed_logins = db.Column(db.Integer, nullable=False, default=0)
    locked_at = db.Column(UTCDateTime())
    # Bumped on password change/logout-everywhere: invalidates every session (Flask-Login id).
    session_version = db.Column(db.Integer, nullable=False, default=1)
    # The organisation the user acts for (app.roles.ORG_ROLES names which column a role uses).
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"))
    bank_id = db.Column(db.Integer, db.ForeignKey("bank.id"))
    device_supplier_id = db.Column(db.Integer, db.ForeignKey("device_supplier.id"))
    owners_committee_id = db.Column(db.Integer, db.ForeignKey("owners_committee.id"))
    street_office_id = db.Column(db.Integer, db.ForeignKey("street_office.id"))
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"))

    role_rows = db.relationship("UserRole", cascade="all, delete-orphan", lazy="selectin")
    enterprise = db.relationship("Enterprise")
    bank = db.relationship("Bank")
    device_supplier = db.relationship("DeviceSupplier")
    owners_committee = db.relationship("OwnersCommittee")
    street_office = db.relationship("StreetOffice")
    community = db.relationship("Community")

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_active(self) -> bool:
        return self.active and self.locked_at is None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class UserRole(db.Model):
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    role = db.Column(db.String(40), primary_key=True)


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(100), nullable=False, default="")
    token_hash = db.Column(db.String(64), unique=True, nullable=False)
    prefix = db.Column(db.String(12), nullable=False)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    last_used_at = db.Column(UTCDateTime())
    revoked_at = db.Column(UTCDateTime())

    user = db.relationship("User")

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None
