"""Owner satisfaction surveys (业主满意度, policy 三(三)): one per community per year, answered
without login through a per-household link. A household is a number and an unguessable
token, never a name; its answer is unique (the database refuses a second)."""
from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class SatisfactionSurvey(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), nullable=False, index=True)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), nullable=False, index=True)
    year = db.Column(db.Integer, nullable=False)
    status = db.Column(db.String(20), nullable=False, default="open")  # open | closed
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    community = db.relationship("Community")
    enterprise = db.relationship("Enterprise")

    __table_args__ = (db.UniqueConstraint("community_id", "year"),)


class SurveyHousehold(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    survey_id = db.Column(db.Integer, db.ForeignKey("satisfaction_survey.id"), nullable=False, index=True)
    number = db.Column(db.Integer, nullable=False)  # 1 … n, printed beside the QR code
    token = db.Column(db.String(64), unique=True, nullable=False)

    survey = db.relationship("SatisfactionSurvey")

    __table_args__ = (db.UniqueConstraint("survey_id", "number"),)


class SurveyAnswer(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    survey_id = db.Column(db.Integer, db.ForeignKey("satisfaction_survey.id"), nullable=False, index=True)
    household_id = db.Column(db.Integer, db.ForeignKey("survey_household.id"), unique=True, nullable=False)
    scores = db.Column(db.JSON, nullable=False)  # question code -> 1 (very unsatisfied) … 5 (very satisfied)
    comment = db.Column(db.Text, nullable=False, default="")  # never shown outside the aggregate count
    answered_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
