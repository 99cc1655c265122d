"""The housing center's own entry in an enterprise's credit file (a commendation or a bad record)."""
from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from forms import BaseForm


class CreditRecordForm(BaseForm):
    positive = RadioField(_l("类别"), choices=[("good", _l("良好记录（表彰）")), ("bad", _l("不良记录"))],
                          default="good", validators=[DataRequired()])
    title = StringField(_l("记录内容"), validators=[DataRequired(_l("请填写记录内容。")), Length(max=300)])
    detail = TextAreaField(_l("详细说明"), validators=[Length(max=4000)])
    points = DecimalField(_l("分值"), places=2, description=_l("选填；不良记录按扣分记"),
                          validators=[Optional(), NumberRange(min=0, max=20)])
    valid_until = DateField(_l("有效期至"), description=_l("选填；不填则长期有效"), validators=[Optional()])
