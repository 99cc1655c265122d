"""Forms of the emergency takeover (bpmn/emergency_takeover.bpmn) and its pages: opening a
takeover, the proposal of candidates and period, the head's approval, the housing
center's record, the enterprise's acceptance, the owners' choice of a regular enterprise,
the handover checklist, and the register of street office heads."""
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from forms import BaseForm

EXCEPTION_MARK = _l("公益性基础服务企业，例外")
RECOMMENDED = _l("推荐")
PHONE = Regexp(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$", message=_l("请填写手机号码或带区号的固定电话。"))


def _error(field, message) -> bool:
    field.errors = list(field.errors) + [message]
    return False


def _required_if(form, other: str, value: str, name: str, message) -> bool:
    field = form._fields[name]
    if form._fields[other].data == value and not (field.data or "").strip():
        return _error(field, message)
    return True


def _takeover_of(row):
    from app.services.takeover import for_instance
    return for_instance(row.instance_id)


def _scope_choices():
    from app.services.takeover import BASIC_SCOPE
    return [(code, label) for code, label in BASIC_SCOPE.items()]


class OpenTakeoverForm(BaseForm):
    """The street office records a community left without property service."""

    community_id = SelectField(_l("小区"), coerce=int, validators=[DataRequired(_l("请选择小区。"))])
    cause = RadioField(_l("无物业服务的原因"), validators=[DataRequired(_l("请选择无物业服务的原因。"))])
    situation = TextAreaField(_l("小区现状"), validators=[DataRequired(_l("请填写小区现状。")), Length(max=4000)],
                              description=_l("原企业撤离或合同终止的时间、目前无人管理的情况、业主诉求"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from app.extensions import db
        from app.models import Community
        from app.services.takeover import CAUSES
        office = getattr(current_user, "street_office_id", None) if current_user else None
        query = db.select(Community).where(Community.street_office_id == office).order_by(Community.name)
        self.community_id.choices = [(0, "—")] + [(c.id, c.name) for c in db.session.scalars(query)]
        self.cause.choices = list(CAUSES.items())


class ProposalForm(BaseForm):
    """Candidates (each checked: filed, under escrow supervision — or a public-benefit
    provider — and not high-risk), the service period and the basic scope."""

    candidate_ids = SelectMultipleField(_l("应急服务企业人选"), coerce=int,
                                        validators=[DataRequired(_l("请至少提出一家应急服务企业人选。"))],
                                        description=_l("可多选；已按评级排序，括号内为资格核验结果"),
                                        render_kw={"size": 10})
    starts_on = DateField(_l("服务期开始日期"), validators=[DataRequired(_l("请填写服务期开始日期。"))])
    ends_on = DateField(_l("服务期结束日期"), validators=[DataRequired(_l("请填写服务期结束日期。"))])
    basic_scope = SelectMultipleField(_l("基本服务范围"), validators=[DataRequired(_l("请选择基本服务范围。"))],
                                      render_kw={"size": 6})
    note = TextAreaField(_l("说明"), validators=[Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from app.services.takeover import candidate_options
        self.candidate_ids.choices = [(e.enterprise.id, f"{e.enterprise.name}（{e.describe()}）")
                                      for e, _evidence in candidate_options()]
        self.basic_scope.choices = _scope_choices()

    @classmethod
    def prefill(cls, row) -> dict:
        from app.services.takeover import DEFAULT_SCOPE
        takeover = _takeover_of(row)
        if takeover is None or not takeover.starts_on:
            return {"basic_scope": list(DEFAULT_SCOPE)}
        return {"candidate_ids": [c.enterprise_id for c in takeover.candidates if c.status == "proposed"],
                "starts_on": takeover.starts_on, "ends_on": takeover.ends_on, "basic_scope": takeover.basic_scope}

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.starts_on.data and self.ends_on.data and self.ends_on.data <= self.starts_on.data:
            ok = _error(self.ends_on, _l("服务期结束日期须晚于开始日期。"))
        return ok

    def check_task(self, user, row) -> dict:
        from app.services.takeover import proposal_problems
        return proposal_problems(_takeover_of(row), self.candidate_ids.data, self.starts_on.data, self.ends_on.data)


class ApprovalForm(BaseForm):
    """The street office head approves one eligible candidate, sends the proposal back, or
    rejects the takeover."""

    decision = RadioField(_l("审批结论"), choices=[("approve", _l("批准")), ("send_back", _l("退回重新提出人选")),
                                                 ("reject", _l("不予批准"))],
                          validators=[DataRequired(_l("请选择审批结论。"))])
    enterprise_id = SelectField(_l("批准承接的企业"), coerce=int, default=0, validate_choice=False)
    comment = TextAreaField(_l("审批意见"), validators=[Length(max=2000)])

    def bind_task(self, row) -> None:
        takeover = _takeover_of(row)
        candidates = [c for c in takeover.candidates if c.status == "proposed" and c.eligible] if takeover else []
        self.enterprise_id.choices = [(0, "—")] + [
            (c.enterprise_id, "{}（{}）".format(c.enterprise.name, EXCEPTION_MARK) if c.exception else c.enterprise.name)
            for c in candidates]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.decision.data == "approve" and not self.enterprise_id.data:
            ok = _error(self.enterprise_id, _l("批准时须选定承接的企业。"))
        if self.decision.data in ("send_back", "reject") and not (self.comment.data or "").strip():
            ok = _error(self.comment, _l("退回或不予批准时须填写审批意见。"))
        return ok

    def check_task(self, user, row) -> dict:
        from app.services.takeover import check, is_head
        takeover = _takeover_of(row)
        if not is_head(user, takeover.street_office_id):
            return {"decision": str(_l("只有本街道办事处负责人可以审批应急接管。"))}
        if user.id == takeover.proposed_by_id:
            return {"decision": str(_l("提出人选的人不能同时审批。"))}
        if self.decision.data == "approve":
            candidate = next((c for c in takeover.candidates if c.enterprise_id == self.enterprise_id.data
                              and c.status == "proposed" and c.eligible), None)
            if candidate is None:
                return {"enterprise_id": str(_l("请从符合条件的人选中选定。"))}
            result = check(candidate.enterprise)  # it may have changed since the proposal
            if not result.eligible:
                return {"enterprise_id": str(_l("该企业现已不符合条件：")) + "；".join(result.reason_texts())}
        return {}


class RecordForm(BaseForm):
    checked = BooleanField(_l("已核对街道审批意见和承接企业资格"),
                           validators=[DataRequired(_l("请核对后勾选。"))])
    note = TextAreaField(_l("备案意见"), validators=[Length(max=2000)])


class AcceptanceForm(BaseForm):
    decision = RadioField(_l("是否承接"), choices=[("accept", _l("确认承接")), ("decline", _l("不承接"))],
                          validators=[DataRequired(_l("请选择是否承接。"))])
    site_manager = StringField(_l("驻场负责人"), validators=[Length(max=50)])
    site_phone = StringField(_l("驻场负责人电话"), validators=[Optional(), PHONE])
    scope_ack = BooleanField(_l("已知悉服务期和基本服务范围，按期进场服务"))
    decline_reason = TextAreaField(_l("不承接的理由"), validators=[Length(max=2000)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.decision.data == "accept":
            ok = _required_if(self, "decision", "accept", "site_manager", _l("请填写驻场负责人。")) and ok
            ok = _required_if(self, "decision", "accept", "site_phone", _l("请填写驻场负责人电话。")) and ok
            if not self.scope_ack.data:
                ok = _error(self.scope_ack, _l("承接前请确认服务期和基本服务范围。"))
        ok = _required_if(self, "decision", "decline", "decline_reason", _l("请填写不承接的理由。")) and ok
        return ok


class SelectionForm(BaseForm):
    """The owners' decision on the regular enterprise (owners' committee, or an assembly the
    street office organised), recorded with its date and result."""

    decided_by = RadioField(_l("决定方式"), choices=[("committee", _l("业主委员会决定")), ("assembly", _l("业主大会决定"))],
                            validators=[DataRequired(_l("请选择决定方式。"))])
    regular_enterprise_id = SelectField(_l("选定的物业服务企业"), coerce=int, default=0,
                                        validators=[DataRequired(_l("请选择业主选定的物业服务企业。"))],
                                        description=_l("标“推荐”的为住保中心推荐名录中的企业"))
    decision_on = DateField(_l("决定日期"), validators=[DataRequired(_l("请填写决定日期。"))])
    decision_note = TextAreaField(_l("表决情况"), validators=[DataRequired(_l("请填写表决情况。")), Length(max=2000)],
                                  description=_l("参加表决的业主人数及专有部分面积、同意比例"))
    decision_file = FileField(_l("决定文件"), description=_l("业主大会决议或业主委员会决定，PDF 或图片，可选"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from app.services.takeover import candidate_options
        choices = [(0, "—")]
        for result, _evidence in candidate_options():
            if "unfiled" in result.reasons or "high_risk" in result.reasons:
                continue
            recommended = result.eligible and not result.exception  # filed, supervised, not high-risk
            name = result.enterprise.name
            choices.append((result.enterprise.id, "{}（{}）".format(name, RECOMMENDED) if recommended else name))
        self.regular_enterprise_id.choices = choices

    def check_task(self, user, row) -> dict:
        from app.services.takeover import selection_problems
        return selection_problems(_takeover_of(row), self.regular_enterprise_id.data, self.decision_on.data)


class HandoverForm(BaseForm):
    """The street office supervises the handover from the emergency provider to the owners'
    choice: every item on the checklist is handed over."""

    handover_on = DateField(_l("交接日期"), validators=[DataRequired(_l("请填写交接日期。"))])
    keys = BooleanField(_l("钥匙已移交"))
    keys_note = StringField(_l("钥匙移交说明"), validators=[Length(max=300)])
    documents = BooleanField(_l("物业资料已移交"))
    documents_note = StringField(_l("物业资料移交说明"), validators=[Length(max=300)])
    device_accounts = BooleanField(_l("智能设备账号已移交"))
    device_accounts_note = StringField(_l("设备账号移交说明"), validators=[Length(max=300)])
    escrow_account = BooleanField(_l("资金监管账户已移交"))
    escrow_account_note = StringField(_l("监管账户移交说明"), validators=[Length(max=300)])
    note = TextAreaField(_l("交接情况"), validators=[Length(max=2000)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        missing = {"keys": _l("钥匙未移交，不能完成交接。"), "documents": _l("物业资料未移交，不能完成交接。"),
                   "device_accounts": _l("智能设备账号未移交，不能完成交接。"),
                   "escrow_account": _l("资金监管账户未移交，不能完成交接。")}
        for name, message in missing.items():
            if not self._fields[name].data:
                ok = _error(self._fields[name], message)
        return ok

    def check_task(self, user, row) -> dict:
        from app.services.takeover import handover_problems
        return handover_problems(_takeover_of(row), self.handover_on.data)


class EscalationForm(BaseForm):
    note = TextAreaField(_l("督办意见"), validators=[DataRequired(_l("请填写督办意见。")), Length(max=2000)],
                         description=_l("应急服务期已届满，业主仍未选定物业服务企业"))


class HeadForm(BaseForm):
    user_id = SelectField(_l("负责人"), coerce=int, validators=[DataRequired(_l("请选择负责人。"))])
    street_office_id = SelectField(_l("街道办事处"), coerce=int, validators=[DataRequired(_l("请选择街道办事处。"))])
