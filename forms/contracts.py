"""Forms of contract filing and review (bpmn/contract_review.bpmn) and its pages: the
contract filed by the enterprise (or for the developer), signing under guidance, the
review, revision opinions and their answers, the owners' committee's confirmation, and the
model texts."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (DateField, FieldList, Form, FormField, IntegerField, RadioField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from forms import BaseForm


def _kinds():
    from app.services.contract_templates import KINDS
    return list(KINDS.items())


def _levels():
    from app.services.contracts import LEVELS
    return [("", "—")] + list(LEVELS.items())


def _checklist():
    from app.services.contract_templates import CHECKLIST
    return CHECKLIST


def _actions():
    from app.services.contracts import ACTIONS
    return list(ACTIONS.items())


def _answers():
    from app.services.contracts import ANSWERS
    return list(ANSWERS.items())


def pdf_only(form, field):
    """An uploaded contract must be a PDF (by name and by content)."""
    from app.services.contracts import is_pdf
    upload = field.data
    if upload and getattr(upload, "filename", "") and not is_pdf(upload):
        raise ValidationError(_l("只接受 PDF 格式的合同文件。"))


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (rendered by _form.html like a radio group)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _WhichMixin:
    """Which community and which kind of contract (declared first, so shown first)."""

    kind = SelectField(_l("合同类型"), choices=_kinds, validators=[DataRequired(_l("请选择合同类型。"))])
    # The service says why a community is refused (not managed by the enterprise, …).
    community_id = SelectField(_l("小区"), coerce=int, validate_choice=False,
                               validators=[DataRequired(_l("请选择小区。"))])


class _ResponseMixin:
    response = RadioField(_l("办理方式"), choices=[("submit", _l("报送合同")), ("refuse", _l("拒绝签订或修改"))],
                          default="submit", validators=[DataRequired(_l("请选择办理方式。"))])


class _TermsMixin:
    """The key terms of a contract, as structured fields beside its PDF."""

    party_a = StringField(_l("甲方"), validators=[DataRequired(_l("请填写甲方名称。")), Length(max=200)],
                          description=_l("业主委员会（业主大会），前期物业服务合同为开发建设单位"))
    tender_ref = StringField(_l("中标通知书编号"), validators=[Length(max=100)],
                             description=_l("前期物业服务合同必填（招标投标备案）"))
    signed_on = DateField(_l("签订日期"), validators=[DataRequired(_l("请填写签订日期（年-月-日）。"))])
    starts_on = DateField(_l("起始日期"), validators=[DataRequired(_l("请填写起始日期（年-月-日）。"))])
    ends_on = DateField(_l("终止日期"), validators=[DataRequired(_l("请填写终止日期（年-月-日）。"))])
    fee_per_sqm = StringField(_l("物业费（元/平方米·月）"), validators=[DataRequired(_l("请填写物业费单价。"))],
                              description=_l("例如 1.20"))
    service_level = SelectField(_l("服务等级"), choices=_levels, validators=[DataRequired(_l("请选择服务等级。"))])
    contract_pdf = FileField(_l("合同文件（PDF）"), validators=[pdf_only],
                             description=_l("双方签章后的合同扫描件，仅限 PDF，不超过 10 MB"))
    note = TextAreaField(_l("报送说明"), validators=[Length(max=2000)])


class ContractForm(_WhichMixin, _TermsMixin, BaseForm):
    """A signed contract filed by its enterprise, or by the center for the developer."""


class SubmitForm(_ResponseMixin, _TermsMixin, BaseForm):
    """The enterprise's task: sign on the model text (guided), or answer the revision
    opinions and submit the revised contract; or refuse."""
    refusal_reason = TextAreaField(_l("拒绝的理由"), validators=[Length(max=2000)],
                                   description=_l("拒绝将被责令改正；责令改正后仍拒绝的，移交高风险企业管控"))

    def bind_task(self, row) -> None:
        """Say what a refusal leads to in this case (docs/contracts.md): a correction order,
        or, once the order was given, the risk notice and the high-risk list."""
        from app.services.contracts import for_instance
        contract = for_instance(row.instance_id)
        if contract is not None and contract.correction_order_id:
            self.refusal_reason.description = _l("已责令改正：再拒绝或逾期未改正的，即书面告知业主企业风险并移交高风险企业管控")

    def validate(self, extra_validators=None):
        if self.response.data != "refuse":
            return super().validate(extra_validators)
        ok = all(self._fields[name].validate(self) for name in ("csrf_token", "response", "refusal_reason")
                 if name in self._fields)
        if not (self.refusal_reason.data or "").strip():
            self.refusal_reason.errors = list(self.refusal_reason.errors) + [_l("拒绝时须说明理由。")]
            ok = False
        return ok

    @classmethod
    def prefill(cls, row) -> dict | None:
        """The terms of the previous round (or the party A the center proposed)."""
        from app.services.contracts import for_instance
        contract = for_instance(row.instance_id)
        if contract is None:
            return None
        data = {"party_a": contract.party_a, "tender_ref": contract.tender_ref, "signed_on": contract.signed_on,
                "starts_on": contract.starts_on, "ends_on": contract.ends_on,
                "service_level": contract.service_level or "",
                "fee_per_sqm": str(contract.fee_per_sqm) if contract.fee_per_sqm is not None else ""}
        return {k: v for k, v in data.items() if v not in (None, "")}

    def check_task(self, user, row) -> dict:
        from app.services.contracts import clean_terms, for_instance, submission_problems
        from app.services.errors import ValidationFailed
        if self.response.data == "refuse":
            return {}
        contract = for_instance(row.instance_id)
        problems = {}
        try:
            clean_terms(contract.kind, self.data)
        except ValidationFailed as e:
            problems.update(e.fields)
        upload = self.contract_pdf.data
        problems.update(submission_problems(contract, self.response.data,
                                            bool(upload and getattr(upload, "filename", ""))))
        return problems


class CommitteeConfirmForm(BaseForm):
    """The owners' committee confirms it signed the contract on the model text."""

    signed = RadioField(_l("签订确认"), choices=[("yes", _l("我方已按示范文本签订该合同")),
                                             ("no", _l("我方未签订或不同意该合同"))],
                        validators=[DataRequired(_l("请选择是否确认签订。"))])
    committee_comment = TextAreaField(_l("意见"), validators=[Length(max=2000)])

    def validate_committee_comment(self, field):
        if self.signed.data == "no" and not (field.data or "").strip():
            raise ValidationError(_l("未确认签订时须说明原因。"))


class ReviewForm(BaseForm):
    """The center's review of the round: accept and file, return for revision (with the
    opinions added on the contract), or reject."""

    decision = RadioField(_l("审查结论"), choices=[("accept", _l("准予备案")), ("revise", _l("退回修改")),
                                               ("reject", _l("不予备案"))],
                          validators=[DataRequired(_l("请选择审查结论。"))])
    checklist = MultiCheckboxField(_l("必备条款（合同已具备的打勾）"), choices=_checklist)
    comment = TextAreaField(_l("审查意见"), validators=[Length(max=2000)])

    @classmethod
    def prefill(cls, row) -> dict | None:
        """What the previous round was found to contain."""
        from app.services.contracts import for_instance
        contract = for_instance(row.instance_id)
        earlier = [r for r in (contract.round_rows if contract else []) if r.checklist]
        return {"checklist": earlier[-1].checklist} if earlier else None

    def check_task(self, user, row) -> dict:
        from app.services.contracts import for_instance, review_problems
        return review_problems(for_instance(row.instance_id), self.decision.data, self.checklist.data,
                               self.comment.data)


class OpinionForm(BaseForm):
    """One revision opinion on a clause."""

    clause_no = SelectField(_l("条款"), coerce=int, default=0)
    action = SelectField(_l("意见类型"), choices=lambda: [("", "—")] + _actions(),
                         validators=[DataRequired(_l("请选择删除、修改或增加。"))])
    text = TextAreaField(_l("删改意见"), validators=[Length(max=2000)])
    proposed_wording = TextAreaField(_l("建议条文"), validators=[Length(max=4000)],
                                     description=_l("修改或增加条款时必填"))


class AnswerForm(BaseForm):
    answer = RadioField(_l("答复"), choices=_answers, validators=[DataRequired(_l("请选择采纳或不采纳。"))])
    answer_text = TextAreaField(_l("说明"), validators=[Length(max=2000)], description=_l("不采纳时必填"))


class ResolveForm(BaseForm):
    resolved = RadioField(_l("落实情况"), choices=[("yes", _l("已落实")), ("no", _l("未落实，转入本轮"))],
                          validators=[DataRequired(_l("请选择是否已落实。"))])


class GuidanceForm(BaseForm):
    """The center guides a community without a signed contract to sign on the model text."""

    community_id = SelectField(_l("小区"), coerce=int, validate_choice=False,
                               validators=[DataRequired(_l("请选择小区。"))])
    kind = SelectField(_l("合同类型"), choices=_kinds, default="regular",
                       validators=[DataRequired(_l("请选择合同类型。"))])
    days = IntegerField(_l("签订期限（工作日）"), default=15,
                        validators=[InputRequired(_l("请填写签订期限。")),
                                    NumberRange(1, 60, _l("签订期限须为 1 至 60 个工作日。"))])
    finding = TextAreaField(_l("发现情况"), validators=[DataRequired(_l("请说明该小区未签订合同的情况。")),
                                                    Length(max=2000)])


class ClauseForm(Form):
    heading = StringField(_l("标题"), validators=[Length(max=200)])
    text = TextAreaField(_l("条文"), validators=[Optional()])
    checklist_item = SelectField(_l("对应审查项"), choices=lambda: [("", "—")] + _checklist(), default="")


class TemplateForm(BaseForm):
    """A draft version of a model text: numbered clauses, each tagged with its checklist item."""

    kind = SelectField(_l("合同类型"), choices=_kinds, validators=[DataRequired(_l("请选择合同类型。"))])
    title = StringField(_l("名称"), validators=[DataRequired(_l("请填写示范文本名称。")), Length(max=200)])
    note = TextAreaField(_l("修订说明"), validators=[Length(max=2000)])
    clauses = FieldList(FormField(ClauseForm), min_entries=1)
