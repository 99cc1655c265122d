"""Daily inspections (日常考核, policy 三(三)): an inspector of any department visits a
community, records what was checked and what was found; each finding deducts points, has
a rectification deadline in working days, and the enterprise may respond or appeal (the
housing center decides an appeal; an accepted one voids the deduction)."""
from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Inspection(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), nullable=False, index=True)
    # The enterprise serving the community on the day (a later change of enterprise keeps the history).
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), nullable=False, index=True)
    street_office_id = db.Column(db.Integer, db.ForeignKey("street_office.id"), nullable=False, index=True)
    department = db.Column(db.String(40), nullable=False)  # the inspector's role code
    inspector_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    inspected_on = db.Column(db.Date, nullable=False)
    items = db.Column(db.JSON, nullable=False, default=list)  # the checklist items checked
    note = db.Column(db.Text, nullable=False, default="")
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    community = db.relationship("Community")
    enterprise = db.relationship("Enterprise")
    inspector = db.relationship("User")
    findings = db.relationship("InspectionFinding", back_populates="inspection", order_by="InspectionFinding.id")
    photos = db.relationship("InspectionPhoto", order_by="InspectionPhoto.attachment_id")


class InspectionFinding(db.Model):
    """One problem found. Status: open (to rectify) → rectified (the enterprise reports it
    done); an appeal makes it `appealed` until the housing center decides: accepted → void
    (the deduction no longer counts), rejected → back to where it was."""

    id = db.Column(db.Integer, primary_key=True)
    inspection_id = db.Column(db.Integer, db.ForeignKey("inspection.id"), nullable=False, index=True)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), nullable=False, index=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), nullable=False, index=True)
    item = db.Column(db.String(60), nullable=False)
    description = db.Column(db.Text, nullable=False)
    points = db.Column(db.Numeric(8, 2), nullable=False)  # points deducted (≥ 0)
    deadline = db.Column(UTCDateTime(), nullable=False)  # rectify before this
    status = db.Column(db.String(20), nullable=False, default="open", index=True)  # open | rectified | appealed | void
    response = db.Column(db.Text, nullable=False, default="")
    responded_at = db.Column(UTCDateTime())
    appeal_reason = db.Column(db.Text, nullable=False, default="")
    appealed_at = db.Column(UTCDateTime())
    appeal_decision = db.Column(db.String(20))  # accepted | rejected
    decision_note = db.Column(db.Text, nullable=False, default="")
    decided_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    decided_at = db.Column(UTCDateTime())
    # The bad record it made in the credit file (its validity ends when an appeal is upheld).
    credit_record_id = db.Column(db.Integer, db.ForeignKey("credit_record.id"))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    inspection = db.relationship("Inspection", back_populates="findings")
    enterprise = db.relationship("Enterprise")
    community = db.relationship("Community")


class InspectionPhoto(db.Model):
    """A photo taken on an inspection (stored by the attachments service)."""

    inspection_id = db.Column(db.Integer, db.ForeignKey("inspection.id"), primary_key=True)
    attachment_id = db.Column(db.Integer, db.ForeignKey("attachment.id"), primary_key=True)

    attachment = db.relationship("Attachment")
