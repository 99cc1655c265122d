"""Forms of the escrow processes (quarterly disbursement, reconciliation) and pages."""
from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from forms import BaseForm


class DisbursementRequestForm(BaseForm):
    """Attachment 2, first form: the enterprise asks for a quarter's disbursement."""

    year = IntegerField(_l("年度"), validators=[DataRequired(_l("请填写年度。")), NumberRange(2020, 2100)])
    quarter = SelectField(_l("季度"), choices=[("1", _l("第一季度")), ("2", _l("第二季度")), ("3", _l("第三季度")),
                                             ("4", _l("第四季度"))], validators=[DataRequired()],
                          description=_l("前三季度可按季申请超过 5% 保证金下限的部分"))


class DisbursementDecisionForm(BaseForm):
    decision = RadioField(_l("审批结论"), choices=[("approve", _l("同意拨付")), ("reject", _l("不予拨付"))],
                          validators=[DataRequired(_l("请选择审批结论。"))])
    comment = TextAreaField(_l("审批意见"), validators=[Length(max=2000)])

    def validate_comment(self, field):
        if self.decision.data == "reject" and not (field.data or "").strip():
            raise ValidationError(_l("不予拨付时须说明理由。"))


class EscalationForm(BaseForm):
    note = TextAreaField(_l("督办意见"), validators=[DataRequired(_l("请填写督办意见。")), Length(max=2000)],
                         description=_l("拨付审批已超过 5 个工作日，请中心负责人督办"))

    def check_task(self, user, row) -> dict:
        """Only the registered head (or their substitute); anyone of the center while none is."""
        from app.permissions import acting_for
        from app.services.escrow import center_head, is_center_head
        if center_head() is not None and not (is_center_head(user) or is_center_head(acting_for(user, row))):
            return {"note": str(_l("只有住保中心负责人可以督办。"))}
        return {}


class PaymentFailureForm(BaseForm):
    """The bank's final answer was a failure (or the payment came back): the center sends
    a new instruction (under a new reference; the failed one is never executed) or stops."""

    decision = RadioField(_l("处理结论"), choices=[("reissue", _l("重新发出支付指令")), ("cancel", _l("不再拨付"))],
                          validators=[DataRequired(_l("请选择处理结论。"))])
    comment = TextAreaField(_l("处理意见"), validators=[Length(max=2000)])

    def bind_task(self, row) -> None:
        from flask_babel import gettext as _
        from app.services.escrow import failure_reason, last_failed_instruction
        failed = last_failed_instruction(row.instance_id)
        if failed is not None:
            self.decision.description = _("支付指令 %(reference)s（%(amount)s 元）未成功：%(reason)s",
                                          reference=failed.reference, amount=f"{failed.amount:,.2f}",
                                          reason=failure_reason(failed.last_error))

    def validate_comment(self, field):
        if self.decision.data == "cancel" and not (field.data or "").strip():
            raise ValidationError(_l("不再拨付时须说明理由。"))


class ReconciliationForm(BaseForm):
    cause = TextAreaField(_l("差异原因"), validators=[DataRequired(_l("请填写差异原因。")), Length(max=2000)])
    resolution = StringField(_l("处理结果"), validators=[DataRequired(_l("请填写处理结果。")), Length(max=300)])

    def bind_task(self, row) -> None:
        """What differs, from the case's start: the lines to look at."""
        from app.services.escrow import difference_lines
        if lines := difference_lines(row.instance_id):
            self.cause.description = "；".join(lines)


class OpenAccountForm(BaseForm):
    community_id = SelectField(_l("小区"), coerce=int, validators=[DataRequired(_l("请选择小区。"))])
    bank_id = SelectField(_l("托管银行"), coerce=int, validators=[DataRequired(_l("请选择托管银行。"))])
    payee_account_no = StringField(_l("企业收款账号"), validators=[DataRequired(_l("请填写收款账号。")), Length(max=32)])
    payee_name = StringField(_l("收款户名"), validators=[DataRequired(_l("请填写收款户名。")), Length(max=200)])


class YearEndCutForm(BaseForm):
    """The owners' committee (or assembly) decides where the year-end cut goes."""

    destination = RadioField(_l("扣减资金用途"), choices=[("infrastructure", _l("用于本小区基础建设")),
                                                       ("maintenance_fund", _l("存入维修资金统筹账户"))],
                             validators=[DataRequired(_l("请选择扣减资金用途。"))])
    resolution = TextAreaField(_l("业主委员会或业主大会决议"), validators=[DataRequired(_l("请填写决议内容。")),
                                                                Length(max=2000)])
    to_account = StringField(_l("基础建设收款账号"), validators=[Length(max=32)],
                             description=_l("用于小区基础建设时填写"))
    to_name = StringField(_l("基础建设收款户名"), validators=[Length(max=200)])

    def validate_to_account(self, field):
        from app.validators import is_valid_bank_account
        if self.destination.data == "infrastructure" and not is_valid_bank_account((field.data or "").strip()):
            raise ValidationError(_l("用于基础建设时须填写有效的收款账号。"))

    def validate_to_name(self, field):
        if self.destination.data == "infrastructure" and not (field.data or "").strip():
            raise ValidationError(_l("请填写收款户名。"))


class LedgerFilterForm(BaseForm):
    """The ledger's filters on the account page (GET: no CSRF)."""

    class Meta:
        csrf = False

    kind = SelectField(_l("类型"), default="", validate_choice=False)
    date_from = DateField(_l("记账日期从"), validators=[Optional()])
    date_to = DateField(_l("至"), validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("结束日期不能早于开始日期。"))


class CenterHeadForm(BaseForm):
    user_id = SelectField(_l("中心负责人"), coerce=int, validators=[DataRequired(_l("请选择负责人。"))])
