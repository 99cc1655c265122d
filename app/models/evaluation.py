"""The annual evaluation (policy 三(二)–三(四), 五(三)): the scoring standard as data,
versioned per year; one evaluation per enterprise–community pair and year with the
departments' item scores, the computed breakdown, the ratings and the objections raised
during the disclosure period (公示)."""
from app.extensions import db
from app.models.base import TimestampMixin, UTCDateTime, utcnow

Points = db.Numeric(6, 2, asdecimal=True)


class ScoringStandard(TimestampMixin, db.Model):
    """The scoring standard (评分标准) of one year; locked once that year's evaluation opens."""

    id = db.Column(db.Integer, primary_key=True)
    year = db.Column(db.Integer, unique=True, nullable=False)
    title = db.Column(db.String(200), nullable=False)
    locked = db.Column(db.Boolean, nullable=False, default=False)

    sections = db.relationship("ScoringSection", order_by="ScoringSection.position", cascade="all, delete-orphan",
                               back_populates="standard")
    items = db.relationship("ScoringItem", order_by="ScoringItem.position", cascade="all, delete-orphan",
                            back_populates="standard", overlaps="section,items")


class ScoringSection(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    standard_id = db.Column(db.Integer, db.ForeignKey("scoring_standard.id", ondelete="CASCADE"), nullable=False,
                            index=True)
    code = db.Column(db.String(20), nullable=False)
    title = db.Column(db.String(200), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)

    standard = db.relationship("ScoringStandard", back_populates="sections")
    items = db.relationship("ScoringItem", order_by="ScoringItem.position", back_populates="section",
                            overlaps="items,standard")

    __table_args__ = (db.UniqueConstraint("standard_id", "code"),)


class ScoringItem(db.Model):
    """One item: its maximum points and the department (role code) that scores it. A bonus
    item (加分项) adds on top, so a total may exceed 100."""

    id = db.Column(db.Integer, primary_key=True)
    standard_id = db.Column(db.Integer, db.ForeignKey("scoring_standard.id", ondelete="CASCADE"), nullable=False,
                            index=True)
    section_id = db.Column(db.Integer, db.ForeignKey("scoring_section.id", ondelete="CASCADE"), nullable=False)
    code = db.Column(db.String(20), nullable=False)
    description = db.Column(db.String(500), nullable=False)
    max_points = db.Column(Points, nullable=False)
    deduction_rules = db.Column(db.Text, nullable=False, default="")
    department = db.Column(db.String(40), nullable=False)
    is_bonus = db.Column(db.Boolean, nullable=False, default=False)
    position = db.Column(db.Integer, nullable=False, default=0)

    standard = db.relationship("ScoringStandard", back_populates="items", overlaps="items,section")
    section = db.relationship("ScoringSection", back_populates="items", overlaps="items,standard")

    __table_args__ = (db.UniqueConstraint("standard_id", "code"),)


class Evaluation(TimestampMixin, db.Model):
    """One enterprise at one community for one year: scoring → disclosure → final."""

    id = db.Column(db.Integer, primary_key=True)
    year = db.Column(db.Integer, nullable=False, index=True)
    standard_id = db.Column(db.Integer, db.ForeignKey("scoring_standard.id"), nullable=False)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), nullable=False, index=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), nullable=False, index=True)
    instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id"))
    status = db.Column(db.String(20), nullable=False, default="scoring")  # scoring | disclosure | final
    scoring_due = db.Column(db.Date, nullable=False)
    total = db.Column(Points)
    breakdown = db.Column(db.JSON)  # frozen at each computation: every point with its source
    star_rating = db.Column(db.Integer)  # the enterprise's stars when this was rated
    grade = db.Column(db.String(10))  # the community grade
    disclosure_ends = db.Column(UTCDateTime())
    finalized_at = db.Column(UTCDateTime())
    opened_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))

    standard = db.relationship("ScoringStandard")
    enterprise = db.relationship("Enterprise")
    community = db.relationship("Community")
    scores = db.relationship("EvaluationScore", back_populates="evaluation", cascade="all, delete-orphan")
    objections = db.relationship("EvaluationObjection", back_populates="evaluation", order_by="EvaluationObjection.id",
                                 cascade="all, delete-orphan")

    __table_args__ = (db.UniqueConstraint("year", "enterprise_id", "community_id"),)


class EvaluationScore(db.Model):
    """The points a department gave one item, from its scoring task."""

    id = db.Column(db.Integer, primary_key=True)
    evaluation_id = db.Column(db.Integer, db.ForeignKey("evaluation.id", ondelete="CASCADE"), nullable=False,
                              index=True)
    item_id = db.Column(db.Integer, db.ForeignKey("scoring_item.id"), nullable=False)
    department = db.Column(db.String(40), nullable=False)
    points = db.Column(Points, nullable=False)
    note = db.Column(db.String(500), nullable=False, default="")
    human_task_id = db.Column(db.Integer)  # the inbox row it came from
    scored_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    scored_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    evaluation = db.relationship("Evaluation", back_populates="scores")
    item = db.relationship("ScoringItem")

    __table_args__ = (db.UniqueConstraint("evaluation_id", "item_id"),)


class EvaluationObjection(db.Model):
    """An objection (异议) raised during the disclosure period by the enterprise or an owner;
    an accepted one adjusts the points of one item."""

    id = db.Column(db.Integer, primary_key=True)
    evaluation_id = db.Column(db.Integer, db.ForeignKey("evaluation.id", ondelete="CASCADE"), nullable=False,
                              index=True)
    raised_by = db.Column(db.String(20), nullable=False)  # enterprise | owner
    name = db.Column(db.String(100), nullable=False)
    phone = db.Column(db.String(32), nullable=False, default="")  # masked
    content = db.Column(db.Text, nullable=False)
    status = db.Column(db.String(20), nullable=False, default="pending")  # pending | accepted | rejected
    item_code = db.Column(db.String(20))
    adjustment = db.Column(Points)
    reply = db.Column(db.Text, nullable=False, default="")
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    decided_at = db.Column(UTCDateTime())
    decided_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))

    evaluation = db.relationship("Evaluation", back_populates="objections")
