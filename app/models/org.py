"""Organisations: government departments, street offices, enterprises, communities,
owners' committees, custodian banks and device suppliers."""
from decimal import Decimal

from app.extensions import db
from app.models.base import Money, TimestampMixin


class Department(db.Model):
    """A government department; `code` is its role code (DESIGN.md glossary)."""

    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(40), unique=True, nullable=False)
    name = db.Column(db.String(100), nullable=False)


class StreetOffice(TimestampMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100), unique=True, nullable=False)
    district = db.Column(db.String(100), nullable=False, default="")
    contact_phone = db.Column(db.String(30), nullable=False, default="")

    communities = db.relationship("Community", back_populates="street_office")


class Enterprise(TimestampMixin, db.Model):
    """A property-service enterprise. Status fields are maintained by the domain services."""

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(200), nullable=False)
    uscc = db.Column(db.String(18), unique=True, nullable=False)
    legal_rep_id = db.Column(db.Integer, db.ForeignKey("person.id"))
    contact_name = db.Column(db.String(50), nullable=False, default="")
    contact_phone = db.Column(db.String(30), nullable=False, default="")
    address = db.Column(db.String(300), nullable=False, default="")
    # unfiled | pending | filed | refused
    filing_status = db.Column(db.String(20), nullable=False, default="unfiled")
    # True once an escrow agreement puts its fees under supervision
    under_supervision = db.Column(db.Boolean, nullable=False, default=False)
    # none | proposed | listed
    risk_status = db.Column(db.String(20), nullable=False, default="none")
    # Public-benefit basic-service providers may take emergency takeovers unsupervised.
    is_public_benefit = db.Column(db.Boolean, nullable=False, default=False)
    star_rating = db.Column(db.Integer)

    legal_rep = db.relationship("Person")
    communities = db.relationship("Community", back_populates="enterprise")

    __table_args__ = (db.Index("ix_enterprise_name", "name"),)  # lists ordered by name (scale: a26)


class Community(TimestampMixin, db.Model):
    """A residential community (物业小区)."""

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(200), nullable=False)
    address = db.Column(db.String(300), nullable=False, default="")
    street_office_id = db.Column(db.Integer, db.ForeignKey("street_office.id"), nullable=False)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"))
    households = db.Column(db.Integer, nullable=False, default=0)
    floor_area = db.Column(db.Numeric(14, 2), nullable=False, default=Decimal("0"))
    # The base of the 5 % bond floor (policy 三(五)).
    annual_receivable_fee = db.Column(Money, nullable=False, default=Decimal("0.00"))
    grade = db.Column(db.String(10))

    street_office = db.relationship("StreetOffice", back_populates="communities")
    enterprise = db.relationship("Enterprise", back_populates="communities")
    owners_committee = db.relationship("OwnersCommittee", back_populates="community", uselist=False)

    __table_args__ = (db.UniqueConstraint("street_office_id", "name"),
                      db.Index("ix_community_name", "name"),  # lists ordered by name (scale: a26)
                      db.Index("ix_community_enterprise_name", "enterprise_id", "name"))


class OwnersCommittee(TimestampMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), unique=True, nullable=False)
    name = db.Column(db.String(200), nullable=False)
    chair_id = db.Column(db.Integer, db.ForeignKey("person.id"))
    established_on = db.Column(db.Date)

    community = db.relationship("Community", back_populates="owners_committee")
    chair = db.relationship("Person")


class Bank(TimestampMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(200), unique=True, nullable=False)
    code = db.Column(db.String(20), unique=True, nullable=False)


class DeviceSupplier(TimestampMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(200), nullable=False)
    uscc = db.Column(db.String(18), unique=True, nullable=False)
