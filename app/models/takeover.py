"""Emergency community takeover (应急小区服务业务), policy 三(五).

When a community is left without property service, its street office opens an
`EmergencyTakeover`: it records the situation and proposes candidate enterprises
(`TakeoverCandidate`, each with the eligibility found when it was checked); the street
office head (`StreetOfficeHead`) approves one; the housing center records it; the chosen
enterprise accepts and serves for a period with a basic scope; before the period ends the
owners choose a regular enterprise and the street office supervises the handover. The
case is bpmn/emergency_takeover.bpmn.
"""
from app.extensions import db
from app.models.base import TimestampMixin, UTCDateTime


class EmergencyTakeover(TimestampMixin, db.Model):
    """status: proposing | approval | recording | acceptance | in_service | selection | handover
    | handed_over | rejected."""

    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), nullable=False, index=True)
    street_office_id = db.Column(db.Integer, db.ForeignKey("street_office.id"), nullable=False, index=True)
    # The enterprise that served the community before (it withdrew, its contract ended, or it was removed).
    previous_enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"))
    cause = db.Column(db.String(20), nullable=False)  # withdrew | contract_ended | removed | other
    situation = db.Column(db.Text, nullable=False)
    status = db.Column(db.String(20), nullable=False, default="proposing")
    # The emergency provider: set when the head approves it, kept once it accepts.
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), index=True)
    starts_on = db.Column(db.Date)
    ends_on = db.Column(db.Date)
    basic_scope = db.Column(db.JSON, nullable=False, default=list)  # codes of takeover.BASIC_SCOPE
    selection_starts_at = db.Column(UTCDateTime())  # the timer that starts choosing a regular enterprise
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    proposed_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    proposed_at = db.Column(UTCDateTime())
    approved_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    approved_at = db.Column(UTCDateTime())
    approval_comment = db.Column(db.Text, nullable=False, default="")
    record_no = db.Column(db.String(40), unique=True)  # the housing center's record number
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    recorded_at = db.Column(UTCDateTime())
    accepted_at = db.Column(UTCDateTime())
    site_manager = db.Column(db.String(50), nullable=False, default="")
    site_phone = db.Column(db.String(30), nullable=False, default="")
    # The regular enterprise the owners chose, and how.
    regular_enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), index=True)
    decided_by = db.Column(db.String(20))  # committee | assembly
    decision_on = db.Column(db.Date)
    decision_note = db.Column(db.Text, nullable=False, default="")
    handover_on = db.Column(db.Date)
    handover_items = db.Column(db.JSON, nullable=False, default=dict)  # item code -> note
    handed_over_at = db.Column(UTCDateTime())
    instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id"), index=True)
    # The community's id while the takeover is open: one open takeover per community.
    active_key = db.Column(db.Integer, unique=True)

    community = db.relationship("Community")
    street_office = db.relationship("StreetOffice")
    previous_enterprise = db.relationship("Enterprise", foreign_keys=[previous_enterprise_id])
    enterprise = db.relationship("Enterprise", foreign_keys=[enterprise_id])
    regular_enterprise = db.relationship("Enterprise", foreign_keys=[regular_enterprise_id])
    proposed_by = db.relationship("User", foreign_keys=[proposed_by_id])
    approved_by = db.relationship("User", foreign_keys=[approved_by_id])
    candidates = db.relationship("TakeoverCandidate", back_populates="takeover", order_by="TakeoverCandidate.rank",
                                 cascade="all, delete-orphan")


class TakeoverCandidate(db.Model):
    """An enterprise the street office proposed, with what the eligibility check found.

    reasons: codes of takeover.INELIGIBLE (empty: eligible). exception: eligible only because
    it is a public-benefit basic-service provider outside escrow supervision.
    status: proposed | chosen | declined | withdrawn (taken off a revised proposal).
    """

    id = db.Column(db.Integer, primary_key=True)
    takeover_id = db.Column(db.Integer, db.ForeignKey("emergency_takeover.id"), nullable=False, index=True)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), nullable=False)
    rank = db.Column(db.Integer, nullable=False, default=0)
    eligible = db.Column(db.Boolean, nullable=False, default=False)
    exception = db.Column(db.Boolean, nullable=False, default=False)
    reasons = db.Column(db.JSON, nullable=False, default=list)
    status = db.Column(db.String(20), nullable=False, default="proposed")
    decline_reason = db.Column(db.Text, nullable=False, default="")
    checked_at = db.Column(UTCDateTime())

    takeover = db.relationship("EmergencyTakeover", back_populates="candidates")
    enterprise = db.relationship("Enterprise")

    __table_args__ = (db.UniqueConstraint("takeover_id", "enterprise_id"),)


class StreetOfficeHead(db.Model):
    """The head (负责人) of a street office: approves that street's emergency takeovers."""

    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    street_office_id = db.Column(db.Integer, db.ForeignKey("street_office.id"), nullable=False, index=True)

    user = db.relationship("User")
    street_office = db.relationship("StreetOffice")
