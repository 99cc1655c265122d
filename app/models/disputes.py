"""Disputes between owners and enterprises (policy 五(二)): complaints from the 12345 hotline
and other channels, mediated at street level.

A `Dispute` is one complaint (a hotline work order, or one received at a street office or
the housing center); its case is the `dispute_mediation` process. The hotline's
work-order number is unique, so a repeated work order is merged, never doubled.
"""
from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Dispute(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    # hotline (12345 work order) | street_office | housing_center (received in person or by phone)
    source = db.Column(db.String(20), nullable=False, default="hotline")
    work_order_no = db.Column(db.String(64), unique=True)  # the hotline's number; None for direct complaints
    received_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    caller_name = db.Column(db.String(100), nullable=False, default="")
    caller_phone = db.Column(db.String(32), nullable=False, default="")  # masked: 138****1234
    address = db.Column(db.String(300), nullable=False, default="")
    category = db.Column(db.String(60), nullable=False, default="")
    content = db.Column(db.Text, nullable=False)
    hotline_deadline = db.Column(UTCDateTime())  # reply to the hotline before this
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), index=True)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), index=True)
    street_office_id = db.Column(db.Integer, db.ForeignKey("street_office.id"), index=True)
    urgent = db.Column(db.Boolean, nullable=False, default=False)
    # triage | dispatched | rectification | mediation | return_visit | closed | not_property
    status = db.Column(db.String(20), nullable=False, default="triage")
    # rectified | agreement | referred | not_property
    outcome = db.Column(db.String(20))
    outcome_note = db.Column(db.Text, nullable=False, default="")
    mediator_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    agreement_terms = db.Column(db.Text, nullable=False, default="")
    agreement_attachment_id = db.Column(db.Integer, db.ForeignKey("attachment.id"))
    referral_channel = db.Column(db.String(30))  # shared_court | litigation | arbitration | other
    satisfaction = db.Column(db.Integer)  # 1 (very unsatisfied) … 5 (very satisfied), from the return visit
    verified = db.Column(db.Boolean)  # the complaint was found true (feeds the credit file)
    duplicates = db.Column(db.Integer, nullable=False, default=0)  # repeated deliveries merged into this one
    instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id"))
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    closed_at = db.Column(UTCDateTime())

    community = db.relationship("Community")
    enterprise = db.relationship("Enterprise")
    street_office = db.relationship("StreetOffice")
    mediator = db.relationship("User", foreign_keys=[mediator_id])
    sessions = db.relationship("MediationSession", back_populates="dispute", order_by="MediationSession.held_on")


class MediationSession(db.Model):
    """One mediation session: when and where, who came, and the record of what was said."""

    id = db.Column(db.Integer, primary_key=True)
    dispute_id = db.Column(db.Integer, db.ForeignKey("dispute.id"), nullable=False, index=True)
    held_on = db.Column(db.Date, nullable=False)
    place = db.Column(db.String(200), nullable=False)
    parties = db.Column(db.String(500), nullable=False)
    record = db.Column(db.Text, nullable=False, default="")
    mediator_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    dispute = db.relationship("Dispute", back_populates="sessions")
    mediator = db.relationship("User")


class StreetMediator(db.Model):
    """A mediator of a street's people's mediation committee: acts on that street's cases only."""

    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    street_office_id = db.Column(db.Integer, db.ForeignKey("street_office.id"), nullable=False, index=True)

    user = db.relationship("User")
    street_office = db.relationship("StreetOffice")


class HotlineReply(db.Model):
    """The answer sent back to the 12345 hotline through its signed callback."""

    id = db.Column(db.Integer, primary_key=True)
    dispute_id = db.Column(db.Integer, db.ForeignKey("dispute.id"), nullable=False, unique=True)
    work_order_no = db.Column(db.String(64), nullable=False)
    content = db.Column(db.Text, nullable=False)
    status = db.Column(db.String(20), nullable=False, default="pending")  # pending | sent
    on_time = db.Column(db.Boolean)
    receipt = db.Column(db.String(64))  # the hotline's acknowledgement id
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    sent_at = db.Column(UTCDateTime())

    dispute = db.relationship("Dispute")
