"""Records that several processes write: the enterprise credit file (诚信档案) and public
disclosures (公示) posted for a community's owners."""
from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class CreditRecord(db.Model):
    """One entry of an enterprise's credit file: good or bad, with its source and the
    period it counts for (a bad record stops counting after its validity, but stays visible)."""

    id = db.Column(db.Integer, primary_key=True)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), nullable=False, index=True)
    person_id = db.Column(db.Integer, db.ForeignKey("person.id"))  # a responsible individual, if any
    kind = db.Column(db.String(40), nullable=False)  # filing | contract | inspection | complaint | score | high_risk | commendation …
    positive = db.Column(db.Boolean, nullable=False, default=False)
    title = db.Column(db.String(300), nullable=False)
    detail = db.Column(db.Text, nullable=False, default="")
    points = db.Column(db.Numeric(8, 2))  # effect on a score, where the record has one
    source = db.Column(db.String(100), nullable=False, default="")  # the department or process
    source_instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id"))
    recorded_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    valid_until = db.Column(db.Date)

    enterprise = db.relationship("Enterprise")
    person = db.relationship("Person")


class Disclosure(db.Model):
    """A public notice for a community's owners (risk notice, evaluation result, …), shown
    on the community's public page without login."""

    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), nullable=False, index=True)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), index=True)
    kind = db.Column(db.String(40), nullable=False)  # risk_notice | evaluation | high_risk | takeover …
    title = db.Column(db.String(300), nullable=False)
    body = db.Column(db.Text, nullable=False, default="")
    attachment_id = db.Column(db.Integer, db.ForeignKey("attachment.id"))  # the PDF, if any
    source_instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id"))
    published_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    ends_at = db.Column(UTCDateTime())  # end of a disclosure period (公示期), if it has one

    community = db.relationship("Community")
    enterprise = db.relationship("Enterprise")
    attachment = db.relationship("Attachment")
