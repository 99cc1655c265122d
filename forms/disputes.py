"""Forms of dispute mediation (bpmn/dispute_mediation.bpmn) and its pages: the complaint
received in person, triage, dispatch, rectification, mediation outcome, sessions, return
visit and escalation."""
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from forms import BaseForm

CATEGORY_CHOICES = [(c, c) for c in ("物业服务质量", "物业收费", "公共设施维修", "环境卫生", "安全秩序", "停车管理",
                                     "装修管理", "其他")]


def _communities(street_office_id=None):
    from app.extensions import db
    from app.models import Community
    query = db.select(Community).order_by(Community.name)
    if street_office_id:
        query = query.where(Community.street_office_id == street_office_id)
    return [(c.id, f"{c.name}（{c.street_office.name}）") for c in db.session.scalars(query)]


def _required_if(other: str, value: str, message):
    def check(form, field):
        if getattr(form, other).data == value and not (field.data or "").strip():
            raise ValidationError(message)
    return check


def _error(field, message) -> bool:
    field.errors = list(field.errors) + [message]
    return False


def _dispute_of(row):
    from app.services.disputes import for_instance
    return for_instance(row.instance_id)


class ComplaintForm(BaseForm):
    """A complaint received at a street office or by the housing center."""

    caller_name = StringField(_l("投诉人"), validators=[Length(max=100)])
    caller_phone = StringField(_l("联系电话"), validators=[Length(max=32)], description=_l("仅保存脱敏号码"))
    community_id = SelectField(_l("小区"), coerce=int, default=0,
                               description=_l("不选则按地址自动匹配，匹配不到由住保中心研判"))
    address = StringField(_l("地址"), validators=[Length(max=300)])
    category = SelectField(_l("类别"), choices=CATEGORY_CHOICES, validators=[DataRequired()])
    content = TextAreaField(_l("投诉内容"), validators=[DataRequired(_l("请填写投诉内容。")), Length(max=4000)])
    urgent = BooleanField(_l("紧急"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        office = getattr(current_user, "street_office_id", None) if current_user else None
        self.community_id.choices = [(0, _l("— 按地址匹配 —"))] + _communities(office)


class TriageForm(BaseForm):
    """The housing center decides what an unmatched complaint is and where it goes."""

    is_property = RadioField(_l("是否物业服务纠纷"), choices=[("yes", _l("是，分派到小区所属街道")),
                                                       ("no", _l("否，转有关部门并答复"))],
                             validators=[DataRequired(_l("请选择研判结论。"))])
    community_id = SelectField(_l("所属小区"), coerce=int, default=0)
    urgent = BooleanField(_l("紧急"))
    note = TextAreaField(_l("研判意见"), validators=[Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.community_id.choices = [(0, "—")] + _communities()

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.is_property.data == "yes" and not self.community_id.data:
            ok = _error(self.community_id, _l("物业纠纷须选择所属小区。"))
        if self.is_property.data == "no" and not (self.note.data or "").strip():
            ok = _error(self.note, _l("非物业纠纷须写明转办部门和理由。"))
        return ok


class DispatchForm(BaseForm):
    """The street office resolves it with the enterprise (rectification) or opens mediation."""

    handling = RadioField(_l("处理方式"), choices=[("rectify", _l("责成物业企业限期整改")),
                                                 ("mediate", _l("启动人民调解"))],
                          validators=[DataRequired(_l("请选择处理方式。"))])
    rectify_days = IntegerField(_l("整改期限（工作日）"), default=5, validators=[Optional(), NumberRange(1, 30)])
    mediator_id = SelectField(_l("调解员"), coerce=int, default=0)
    urgent = BooleanField(_l("紧急"))
    note = TextAreaField(_l("分办意见"), validators=[Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from app.services.disputes import mediators_of
        office = getattr(current_user, "street_office_id", None) if current_user else None
        self.mediator_id.choices = [(0, "—")] + [(u.id, u.display_name or u.username) for u in mediators_of(office)]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.handling.data == "mediate" and not self.mediator_id.data:
            ok = _error(self.mediator_id, _l("启动调解须指定调解员。"))
        if self.handling.data == "rectify" and not self.rectify_days.data:
            ok = _error(self.rectify_days, _l("请填写整改期限。"))
        return ok

    def check_task(self, user, row) -> dict:
        from app.services.disputes import mediator_streets
        from app.extensions import db
        from app.models import User
        if self.handling.data == "mediate":
            mediator = db.session.get(User, self.mediator_id.data)
            if mediator is None or row.street_office_id not in mediator_streets(mediator):
                return {"mediator_id": str(_l("该调解员不属于本街道调解委员会。"))}
        return {}


class RectificationForm(BaseForm):
    measures = TextAreaField(_l("整改措施及结果"), validators=[DataRequired(_l("请填写整改措施及结果。")),
                                                          Length(max=4000)])


class MediationOutcomeForm(BaseForm):
    """The mediator closes mediation: an agreement with the parties' terms, or failure and
    a referral to the shared court or other legal channels."""

    outcome = RadioField(_l("调解结果"), choices=[("agreement", _l("达成调解协议")), ("failed", _l("调解不成"))],
                         validators=[DataRequired(_l("请选择调解结果，案件不能无结果结束。"))])
    terms = TextAreaField(_l("协议内容（当事人约定的条款）"), validators=[
        Length(max=4000), _required_if("outcome", "agreement", _l("达成协议须写明协议内容。"))])
    performance = TextAreaField(_l("履行方式和期限"), validators=[
        Length(max=1000), _required_if("outcome", "agreement", _l("请写明履行方式和期限。"))])
    failure_reason = TextAreaField(_l("调解不成的原因"), validators=[
        Length(max=2000), _required_if("outcome", "failed", _l("请写明调解不成的原因。"))])
    referral = SelectField(_l("引导途径"), choices=[("", "—"), ("shared_court", _l("共享法庭")),
                                                ("litigation", _l("向人民法院起诉")), ("arbitration", _l("申请仲裁")),
                                                ("other", _l("其他法律途径"))], default="", validators=[
        _required_if("outcome", "failed", _l("调解不成须告知当事人的其他途径。"))])

    def check_task(self, user, row) -> dict:
        from app.services.disputes import ensure_case_mediator
        dispute = _dispute_of(row)
        ensure_case_mediator(user, dispute)  # Forbidden for another street's (or mediator's) case
        if not dispute.sessions:
            return {"outcome": str(_l("请先记录至少一次调解会。"))}
        return {}


class SessionForm(BaseForm):
    held_on = DateField(_l("调解日期"), validators=[DataRequired(_l("请填写调解日期。"))])
    place = StringField(_l("地点"), validators=[DataRequired(_l("请填写调解地点。")), Length(max=200)])
    parties = StringField(_l("参加人员"), validators=[DataRequired(_l("请填写参加人员。")), Length(max=500)])
    record = TextAreaField(_l("调解记录"), validators=[Length(max=8000)])


class ReturnVisitForm(BaseForm):
    satisfaction = RadioField(_l("满意度"), coerce=int, choices=[(5, _l("非常满意")), (4, _l("满意")), (3, _l("基本满意")),
                                                             (2, _l("不满意")), (1, _l("非常不满意"))],
                              validators=[DataRequired(_l("请选择回访满意度。"))])
    verified = BooleanField(_l("投诉属实（记入企业诚信档案）"))
    visit_note = TextAreaField(_l("回访记录"), validators=[DataRequired(_l("请填写回访记录。")), Length(max=2000)])


class EscalationForm(BaseForm):
    note = TextAreaField(_l("督办意见"), validators=[DataRequired(_l("请填写督办意见。")), Length(max=2000)],
                         description=_l("该环节已超过办理时限"))


class MediatorForm(BaseForm):
    user_id = SelectField(_l("调解员"), coerce=int, validators=[DataRequired(_l("请选择调解员。"))])
    street_office_id = SelectField(_l("街道"), coerce=int, validators=[DataRequired(_l("请选择街道。"))])


class WorkOrderImportForm(BaseForm):
    file = FileField(_l("12345 工单文件"), description=_l(
        "CSV 或 Excel（.xlsx），列：工单编号、受理时间、来电人、来电号码、地址、类别、诉求内容、办结时限"))
