"""Forms of the high-risk control list (bpmn/high_risk_escalation.bpmn), policy 三(七)."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from forms import BaseForm
from forms.filing import SCAN_ACCEPT, scan_only, validate_people


def _not_the_proposer(user, row, field: str) -> dict:
    """The proposer of a listing may not approve it (four-eyes principle)."""
    from app.services.high_risk import listing_for_instance
    listing = listing_for_instance(row.instance_id)
    if listing and user.id in (listing.proposed_by_id, listing.removal_verified_by_id):
        return {field: str(_l("提出或核实该事项的人不能同时审批。"))}
    return {}


class ProposalForm(BaseForm):
    reason = TextAreaField(_l("列入理由"), validators=[DataRequired(_l("请填写列入理由。")), Length(max=2000)],
                           description=_l("对照实施方案三(七)写明企业的违法违规或失信情形"))
    evidence = TextAreaField(_l("证据"), validators=[DataRequired(_l("请列明证据。")), Length(max=4000)])
    evidence_file = FileField(_l("证据材料"), validators=[scan_only], render_kw=SCAN_ACCEPT,
                              description=_l("PDF 或图片，可选"))
    list_legal_rep = BooleanField(_l("同时列入法定代表人"), default=True)
    project_managers = TextAreaField(_l("同时列入的项目经理"), validators=[validate_people],
                                     description=_l("每行一人：姓名 身份证号"))

    @classmethod
    def prefill(cls, row) -> dict | None:
        from app.services.high_risk import listing_for_instance
        listing = listing_for_instance(row.instance_id)
        return {"reason": listing.reason, "evidence": listing.evidence, "list_legal_rep": True} if listing else None


class ListingReviewForm(BaseForm):
    decision = RadioField(_l("审核结论"), choices=[("approve", _l("同意列入")), ("send_back", _l("退回完善")),
                                                 ("reject", _l("不予列入"))],
                          validators=[DataRequired(_l("请选择审核结论。"))])
    comment = TextAreaField(_l("审核意见"), validators=[Length(max=2000)])

    def validate_comment(self, field):
        if self.decision.data in ("send_back", "reject") and not (field.data or "").strip():
            raise ValidationError(_l("退回或不予列入时须填写审核意见。"))

    def check_task(self, user, row) -> dict:
        return _not_the_proposer(user, row, "decision")


class RemovalApplicationForm(BaseForm):
    correction = TextAreaField(_l("整改情况"), validators=[DataRequired(_l("请说明整改情况。")), Length(max=4000)])
    correction_file = FileField(_l("整改证明材料"), validators=[scan_only], render_kw=SCAN_ACCEPT,
                                description=_l("PDF 或图片，不超过 10 MB"))


class RemovalVerificationForm(BaseForm):
    verified = RadioField(_l("核实结论"), choices=[("yes", _l("整改到位，报请移出")), ("no", _l("整改不到位，退回"))],
                          validators=[DataRequired(_l("请选择核实结论。"))])
    comment = TextAreaField(_l("核实意见"), validators=[DataRequired(_l("请填写核实意见。")), Length(max=2000)])


class RemovalApprovalForm(BaseForm):
    decision = RadioField(_l("审批结论"), choices=[("approve", _l("同意移出")), ("reject", _l("不同意移出"))],
                          validators=[DataRequired(_l("请选择审批结论。"))])
    comment = TextAreaField(_l("审批意见"), validators=[Length(max=2000)])

    def validate_comment(self, field):
        if self.decision.data == "reject" and not (field.data or "").strip():
            raise ValidationError(_l("不同意移出时须填写审批意见。"))

    def check_task(self, user, row) -> dict:
        return _not_the_proposer(user, row, "decision")
