"""Fee collection (policy 五(四)): the receivable roll of a community for a year (one row
per household with its annual fee), the reminder letters sent to households in arrears,
and the owners' committee's urging of them. What a household has paid is not stored: it is
matched from the escrow receipts (app/services/fees.py)."""
from app.extensions import db
from app.models.base import Money, UTCDateTime, utcnow


class FeeRoll(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), nullable=False, index=True)
    year = db.Column(db.Integer, nullable=False)
    imported_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    imported_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    community = db.relationship("Community")
    households = db.relationship("FeeHousehold", back_populates="roll", order_by="FeeHousehold.room")

    __table_args__ = (db.UniqueConstraint("community_id", "year"),)


class FeeHousehold(db.Model):
    """A household of the roll; `room` (房号, e.g. 3-2-501) is the reference owners write in
    their payment's memo, by which receipts are matched."""

    id = db.Column(db.Integer, primary_key=True)
    roll_id = db.Column(db.Integer, db.ForeignKey("fee_roll.id"), nullable=False, index=True)
    room = db.Column(db.String(50), nullable=False)
    owner_name = db.Column(db.String(100), nullable=False)
    phone = db.Column(db.String(30), nullable=False, default="")
    annual_fee = db.Column(Money, nullable=False)

    roll = db.relationship("FeeRoll", back_populates="households")

    __table_args__ = (db.UniqueConstraint("roll_id", "room"),)


class FeeReminder(db.Model):
    """One reminder letter (催缴通知书) to a household, in a numbered round."""

    id = db.Column(db.Integer, primary_key=True)
    household_id = db.Column(db.Integer, db.ForeignKey("fee_household.id"), nullable=False, index=True)
    round = db.Column(db.Integer, nullable=False)
    amount_due = db.Column(Money, nullable=False)
    attachment_id = db.Column(db.Integer, db.ForeignKey("attachment.id"), nullable=False)
    sent_by_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    sent_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    household = db.relationship("FeeHousehold")
    attachment = db.relationship("Attachment")
    sent_by = db.relationship("User")

    __table_args__ = (db.UniqueConstraint("household_id", "round"),)


class FeeUrging(db.Model):
    """The owners' committee urging a household to pay (who, when, how, outcome)."""

    id = db.Column(db.Integer, primary_key=True)
    household_id = db.Column(db.Integer, db.ForeignKey("fee_household.id"), nullable=False, index=True)
    urged_by_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    urged_on = db.Column(db.Date, nullable=False)
    method = db.Column(db.String(20), nullable=False)  # visit | phone | meeting | letter
    outcome = db.Column(db.String(20), nullable=False)  # promised | paid | refused | unreachable
    note = db.Column(db.Text, nullable=False, default="")
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    household = db.relationship("FeeHousehold")
    urged_by = db.relationship("User")
