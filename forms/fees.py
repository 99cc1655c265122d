"""Fee collection forms: the roll import, and the owners' committee's urging record."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from forms import BaseForm


class RollImportForm(BaseForm):
    file = FileField(_l("收费名册"), description=_l("CSV 或 Excel（.xlsx），列：房号、业主姓名、年物业费、联系电话（可选）"))


class UrgingForm(BaseForm):
    household_id = SelectField(_l("欠费住户"), coerce=int, default=0)
    urged_on = DateField(_l("督促日期"), validators=[DataRequired(_l("请填写督促日期。"))])
    method = SelectField(_l("督促方式"), validators=[DataRequired(_l("请选择督促方式。"))])
    outcome = SelectField(_l("督促结果"), validators=[DataRequired(_l("请选择督促结果。"))])
    note = TextAreaField(_l("情况说明"), validators=[Length(max=2000)])

    def __init__(self, *args, **kwargs):
        from app.services.fees import URGING_METHODS, URGING_OUTCOMES
        super().__init__(*args, **kwargs)
        self.household_id.choices = [(0, _l("请选择"))]
        self.method.choices = [("", _l("请选择"))] + [(k, v) for k, v in URGING_METHODS.items()]
        self.outcome.choices = [("", _l("请选择"))] + [(k, v) for k, v in URGING_OUTCOMES.items()]
