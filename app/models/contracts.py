"""Property-service contracts (物业服务合同), policy 三(七).

`ContractTemplate` is a version of the city's model text (示范文本) of the preliminary or the
regular contract, with numbered clauses (`TemplateClause`), each tagged with the item of the
review checklist it covers. The housing center drafts a version and the justice bureau
countersigns it, which publishes it.

`Contract` is one contract filing case of a community (bpmn/contract_review.bpmn): the key
terms of its latest submission, the deadline the enterprise works to, and where the case
stands. Every submission is a `ContractRound`; the reviewer's per-clause `RevisionOpinion`s
belong to the round they were raised on, carry the enterprise's answer, and are marked
resolved (or not) when the next round is reviewed.
"""
from app.extensions import db
from app.models.base import Money, TimestampMixin, UTCDateTime, utcnow


class ContractTemplate(TimestampMixin, db.Model):
    """status: draft | published | retired (a newer version of the same kind was published)."""

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(20), nullable=False)  # preliminary | regular
    version = db.Column(db.Integer, nullable=False)
    title = db.Column(db.String(200), nullable=False)
    note = db.Column(db.Text, nullable=False, default="")  # what this version changes
    status = db.Column(db.String(20), nullable=False, default="draft")
    drafted_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    countersigned_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))  # the justice bureau
    published_at = db.Column(UTCDateTime())

    drafted_by = db.relationship("User", foreign_keys=[drafted_by_id])
    countersigned_by = db.relationship("User", foreign_keys=[countersigned_by_id])
    clauses = db.relationship("TemplateClause", back_populates="template", order_by="TemplateClause.number",
                              cascade="all, delete-orphan")

    __table_args__ = (db.UniqueConstraint("kind", "version"),)


class TemplateClause(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    template_id = db.Column(db.Integer, db.ForeignKey("contract_template.id"), nullable=False, index=True)
    number = db.Column(db.Integer, nullable=False)  # 第 n 条
    heading = db.Column(db.String(200), nullable=False)
    text = db.Column(db.Text, nullable=False)
    checklist_item = db.Column(db.String(30))  # the review checklist item this clause covers

    template = db.relationship("ContractTemplate", back_populates="clauses")

    __table_args__ = (db.UniqueConstraint("template_id", "number"),)


class Contract(TimestampMixin, db.Model):
    """One contract filing case of a community.

    origin: submitted (the enterprise, or the center for the developer, filed a signed
    contract) | guided (no contract signed: the center guides signing on the model text).
    status: guidance | submitted | returned | filed | rejected | escalated | superseded.
    """

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(20), nullable=False)  # preliminary | regular
    origin = db.Column(db.String(20), nullable=False, default="submitted")
    submitted_by = db.Column(db.String(20), nullable=False, default="enterprise")  # enterprise | developer
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), nullable=False, index=True)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), nullable=False, index=True)
    street_office_id = db.Column(db.Integer, db.ForeignKey("street_office.id"), index=True)
    template_id = db.Column(db.Integer, db.ForeignKey("contract_template.id"))  # the model text it follows
    # Key terms of the latest submission (none yet while signing is being guided).
    party_a = db.Column(db.String(200), nullable=False, default="")  # owners' committee/assembly, or the developer
    tender_ref = db.Column(db.String(100), nullable=False, default="")  # preliminary: the award notice number
    signed_on = db.Column(db.Date)
    starts_on = db.Column(db.Date)
    ends_on = db.Column(db.Date, index=True)
    fee_per_sqm = db.Column(Money)  # yuan per m² per month
    service_level = db.Column(db.String(20), nullable=False, default="")
    status = db.Column(db.String(20), nullable=False, default="submitted", index=True)
    rounds = db.Column(db.Integer, nullable=False, default=0)
    deadline = db.Column(db.Date)  # what the enterprise must do by (guidance, revision, correction order)
    misses = db.Column(db.Integer, nullable=False, default=0)  # deadlines missed
    guidance_notice_id = db.Column(db.Integer, db.ForeignKey("attachment.id"))
    correction_order_id = db.Column(db.Integer, db.ForeignKey("attachment.id"))
    certificate_id = db.Column(db.Integer, db.ForeignKey("attachment.id"))
    filed_round = db.Column(db.Integer)
    filed_at = db.Column(UTCDateTime())
    decision_comment = db.Column(db.Text, nullable=False, default="")
    renewal_reminded_at = db.Column(UTCDateTime())
    instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id"), index=True)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    # Only one contract case per community may be open at a time.
    active_key = db.Column(db.Integer, unique=True)

    community = db.relationship("Community")
    enterprise = db.relationship("Enterprise")
    street_office = db.relationship("StreetOffice")
    template = db.relationship("ContractTemplate")
    guidance_notice = db.relationship("Attachment", foreign_keys=[guidance_notice_id])
    correction_order = db.relationship("Attachment", foreign_keys=[correction_order_id])
    certificate = db.relationship("Attachment", foreign_keys=[certificate_id])
    round_rows = db.relationship("ContractRound", back_populates="contract", order_by="ContractRound.number",
                                 cascade="all, delete-orphan")


class ContractRound(db.Model):
    """One submission of the contract and its review.

    decision: accept | revise | reject | not_confirmed (the owners' committee did not
    confirm signing it) | None (not reviewed yet)."""

    id = db.Column(db.Integer, primary_key=True)
    contract_id = db.Column(db.Integer, db.ForeignKey("contract.id"), nullable=False, index=True)
    number = db.Column(db.Integer, nullable=False)
    pdf_id = db.Column(db.Integer, db.ForeignKey("attachment.id"), nullable=False)
    terms = db.Column(db.JSON, nullable=False, default=dict)  # the key terms as submitted
    note = db.Column(db.Text, nullable=False, default="")  # the enterprise's cover note
    submitted_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    submitted_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    committee_confirmed = db.Column(db.Boolean)  # guided signing: the owners' committee's confirmation
    committee_comment = db.Column(db.Text, nullable=False, default="")
    decision = db.Column(db.String(20))
    checklist = db.Column(db.JSON, nullable=False, default=list)  # checklist items the reviewer found present
    review_comment = db.Column(db.Text, nullable=False, default="")
    reviewed_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    reviewed_at = db.Column(UTCDateTime())
    opinions_letter_id = db.Column(db.Integer, db.ForeignKey("attachment.id"))

    contract = db.relationship("Contract", back_populates="round_rows")
    pdf = db.relationship("Attachment", foreign_keys=[pdf_id])
    opinions_letter = db.relationship("Attachment", foreign_keys=[opinions_letter_id])
    submitted_by = db.relationship("User", foreign_keys=[submitted_by_id])
    reviewed_by = db.relationship("User", foreign_keys=[reviewed_by_id])
    opinions = db.relationship("RevisionOpinion", back_populates="round", order_by="RevisionOpinion.seq",
                               foreign_keys="RevisionOpinion.round_id")

    __table_args__ = (db.UniqueConstraint("contract_id", "number"),)


class RevisionOpinion(db.Model):
    """A revision opinion on one clause: delete, amend or add, with the proposed wording.

    answer: accept (revised in the next upload) | argue (the enterprise explains why not).
    resolved: decided by the reviewer of the next round; an unresolved opinion is carried
    into that round as a new opinion (carried_from_id)."""

    id = db.Column(db.Integer, primary_key=True)
    contract_id = db.Column(db.Integer, db.ForeignKey("contract.id"), nullable=False, index=True)
    round_id = db.Column(db.Integer, db.ForeignKey("contract_round.id"), nullable=False, index=True)
    seq = db.Column(db.Integer, nullable=False)  # 1, 2, … within the round
    clause_no = db.Column(db.Integer, nullable=False, default=0)  # 0: the contract as a whole / a new clause
    clause_heading = db.Column(db.String(200), nullable=False, default="")
    action = db.Column(db.String(10), nullable=False)  # delete | amend | add
    text = db.Column(db.Text, nullable=False)
    proposed_wording = db.Column(db.Text, nullable=False, default="")
    carried_from_id = db.Column(db.Integer, db.ForeignKey("revision_opinion.id"))
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    answer = db.Column(db.String(10))
    answer_text = db.Column(db.Text, nullable=False, default="")
    answered_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    answered_at = db.Column(UTCDateTime())
    resolved = db.Column(db.Boolean)
    resolved_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    resolved_at = db.Column(UTCDateTime())

    round = db.relationship("ContractRound", back_populates="opinions", foreign_keys=[round_id])
    carried_from = db.relationship("RevisionOpinion", remote_side=[id])
    created_by = db.relationship("User", foreign_keys=[created_by_id])
    answered_by = db.relationship("User", foreign_keys=[answered_by_id])

    __table_args__ = (db.UniqueConstraint("round_id", "seq"),)
