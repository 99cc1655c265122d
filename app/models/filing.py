"""Enterprise filing (备案) and the high-risk control list (高风险管控名单), policy 三(六)(七)."""
from app.extensions import db
from app.models.base import TimestampMixin, UTCDateTime


class EnterpriseFiling(TimestampMixin, db.Model):
    """One filing case of an enterprise: what it submitted (the latest round), what the
    reviewer asked it to supplement, and where the case stands.

    origin: self (the enterprise filed on its own) | demand (the center found it unfiled).
    status: demanded | submitted | returned | accepted | refused (deadline missed or declined).
    """

    id = db.Column(db.Integer, primary_key=True)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), nullable=False, index=True)
    instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id"), index=True)
    origin = db.Column(db.String(10), nullable=False, default="self")
    status = db.Column(db.String(20), nullable=False, default="submitted")
    rounds = db.Column(db.Integer, nullable=False, default=0)  # submissions so far
    details = db.Column(db.JSON, nullable=False, default=dict)  # the latest submission, field by field
    supplement_items = db.Column(db.JSON, nullable=False, default=list)  # what the reviewer asked for
    review_comment = db.Column(db.Text, nullable=False, default="")
    deadline = db.Column(db.Date)  # of a filing demand
    demand_notice_id = db.Column(db.Integer, db.ForeignKey("attachment.id"))
    submitted_at = db.Column(UTCDateTime())
    decided_at = db.Column(UTCDateTime())
    # Only one filing case per enterprise may be open at a time.
    active_key = db.Column(db.Integer, unique=True)

    enterprise = db.relationship("Enterprise")
    demand_notice = db.relationship("Attachment")


class HighRiskListing(TimestampMixin, db.Model):
    """A proposal to list an enterprise as high-risk, and, once listed, its removal.

    status: drafting | proposed | listed | rejected | removed.
    """

    id = db.Column(db.Integer, primary_key=True)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), nullable=False, index=True)
    instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id"), index=True)
    status = db.Column(db.String(20), nullable=False, default="drafting")
    reason = db.Column(db.Text, nullable=False, default="")
    evidence = db.Column(db.Text, nullable=False, default="")
    proposed_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    proposed_at = db.Column(UTCDateTime())
    decided_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    decision_comment = db.Column(db.Text, nullable=False, default="")
    listed_at = db.Column(UTCDateTime())
    correction = db.Column(db.Text, nullable=False, default="")  # what the enterprise corrected
    removal_verified_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    removed_at = db.Column(UTCDateTime())
    removal_approved_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    # Only one open listing case per enterprise (drafting, proposed or listed).
    active_key = db.Column(db.Integer, unique=True)

    enterprise = db.relationship("Enterprise")
    proposed_by = db.relationship("User", foreign_keys=[proposed_by_id])
    persons = db.relationship("HighRiskPerson", back_populates="listing", cascade="all, delete-orphan")


class HighRiskPerson(db.Model):
    """A responsible individual listed with the enterprise (legal representative, project manager)."""

    id = db.Column(db.Integer, primary_key=True)
    listing_id = db.Column(db.Integer, db.ForeignKey("high_risk_listing.id"), nullable=False, index=True)
    person_id = db.Column(db.Integer, db.ForeignKey("person.id"), nullable=False)
    role = db.Column(db.String(20), nullable=False)  # legal_rep | project_manager

    listing = db.relationship("HighRiskListing", back_populates="persons")
    person = db.relationship("Person")
