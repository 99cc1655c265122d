"""Forms of smart devices: the repair task and its escalation (bpmn/device_repair.bpmn), the
device registry, and the build plan pages (proposal, agreement, bank advance, repayments,
early termination)."""
from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, FieldList, FormField, IntegerField, RadioField, SelectField, StringField, \
    TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from forms import BaseForm

KIND_CHOICES = [("elevator", _l("梯控")), ("access", _l("门禁")), ("video", _l("监控")), ("staff", _l("员工管理"))]


class RepairForm(BaseForm):
    """The supplier records what it did; the case then waits for the device to report healthy."""

    repair_note = TextAreaField(_l("维修情况"), validators=[DataRequired(_l("请填写维修情况。")), Length(max=4000)],
                                description=_l("故障原因、处理措施；设备须向平台报告恢复正常后方可办结"))
    parts = StringField(_l("更换配件"), validators=[Length(max=300)])

    def check_task(self, user, row) -> dict:
        from app.services.devices import ensure_own_device, repair_for_instance
        ensure_own_device(user, repair_for_instance(row.instance_id))  # Forbidden for another supplier's device
        return {}


class EscalationForm(BaseForm):
    note = TextAreaField(_l("督办意见"), validators=[DataRequired(_l("请填写督办意见。")), Length(max=2000)],
                         description=_l("设备故障超过 24 小时未修复"))


class DeviceForm(BaseForm):
    community_id = SelectField(_l("小区"), coerce=int, validators=[DataRequired(_l("请选择小区。"))])
    supplier_id = SelectField(_l("设备供应商"), coerce=int, default=0)
    kind = SelectField(_l("设备类型"), choices=KIND_CHOICES, validators=[DataRequired(_l("请选择设备类型。"))])
    serial = StringField(_l("设备序列号"), validators=[DataRequired(_l("请填写设备序列号。")), Length(max=64)])
    model = StringField(_l("型号"), validators=[Length(max=100)])
    location = StringField(_l("安装位置"), validators=[Length(max=200)])
    installed_on = DateField(_l("安装日期"), validators=[DataRequired(_l("请填写安装日期。"))])
    warranty_until = DateField(_l("维保期至"), validators=[Optional()])
    build_plan_id = SelectField(_l("建设方案"), coerce=int, default=0)


class PlanItemForm(BaseForm):
    class Meta:
        csrf = False

    kind = SelectField(_l("设备类型"), choices=[("", "—")] + KIND_CHOICES, default="")
    model = StringField(_l("型号"), validators=[Length(max=100)])
    quantity = IntegerField(_l("数量"), validators=[Optional(), NumberRange(1, 10000, _l("数量须在 1 到 10000 之间。"))])
    unit_price = DecimalField(_l("单价（元）"), places=2, validators=[Optional()])


class BuildPlanForm(BaseForm):
    community_id = SelectField(_l("小区"), coerce=int, validators=[DataRequired(_l("请选择小区。"))])
    bank_id = SelectField(_l("垫资银行"), coerce=int, validators=[DataRequired(_l("请选择垫资银行。"))])
    title = StringField(_l("方案名称"), validators=[DataRequired(_l("请填写方案名称。")), Length(max=200)])
    description = TextAreaField(_l("建设内容"), validators=[Length(max=4000)])
    instalments = IntegerField(_l("还款期数（月）"), default=12,
                               validators=[DataRequired(_l("请填写还款期数。")),
                                           NumberRange(1, 120, _l("还款期数须在 1 到 120 个月之间。"))])
    items = FieldList(FormField(PlanItemForm), min_entries=4, max_entries=20)


class PlanDecisionForm(BaseForm):
    decision = RadioField(_l("意见"), choices=[("agree", _l("同意该建设方案")), ("reject", _l("不同意"))],
                          validators=[DataRequired(_l("请选择意见。"))])
    note = TextAreaField(_l("说明"), validators=[Length(max=2000)])


class AdvanceForm(BaseForm):
    advanced_on = DateField(_l("垫付日期"), validators=[DataRequired(_l("请填写垫付日期。"))])
    reference = StringField(_l("付款流水号"), validators=[DataRequired(_l("请填写付款流水号。")), Length(max=64)])


class RepaymentForm(BaseForm):
    amount = StringField(_l("还款金额（元）"), validators=[DataRequired(_l("请填写还款金额。"))])
    paid_on = DateField(_l("到账日期"), validators=[DataRequired(_l("请填写到账日期。"))])
    reference = StringField(_l("银行流水号"), validators=[DataRequired(_l("请填写银行流水号。")), Length(max=64)])


class TerminationRequestForm(BaseForm):
    reason = TextAreaField(_l("终止理由"), validators=[DataRequired(_l("请填写终止理由。")), Length(max=2000)],
                           description=_l("终止智能设备建设、使用后，设备由银行拆回，企业仍在住保中心监管之下"))


class TerminationDecisionForm(BaseForm):
    decision = RadioField(_l("意见"), choices=[("agree", _l("同意终止并拆回设备")), ("reject", _l("不同意"))],
                          validators=[DataRequired(_l("请选择意见。"))])
    note = TextAreaField(_l("说明"), validators=[Length(max=2000)])
