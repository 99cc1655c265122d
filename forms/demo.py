"""Forms of the demo process (bpmn/demo_review.bpmn), which proves the engine end to end."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DecimalField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from forms import BaseForm


class SubmitForm(BaseForm):
    title = StringField(_l("材料名称"), validators=[DataRequired(_l("请填写材料名称。")), Length(max=100)])
    amount = DecimalField(_l("年度应收物业费（元）"), places=2,
                          validators=[DataRequired(_l("请填写金额。")),
                                      NumberRange(min=0.01, message=_l("金额须大于 0。"))],
                          description=_l("用于计算 5% 履约保证金"))
    document = FileField(_l("证明材料"), description=_l("PDF 或图片，不超过 10 MB"))


class ReviewForm(BaseForm):
    decision = RadioField(_l("审核结论"), choices=[("approve", _l("通过")), ("revise", _l("退回修改"))],
                          validators=[DataRequired(_l("请选择审核结论。"))])
    comment = TextAreaField(_l("审核意见"), validators=[Length(max=2000)])

    def validate_comment(self, field):
        if self.decision.data == "revise" and not (field.data or "").strip():
            raise ValidationError(_l("退回修改时须填写审核意见。"))
