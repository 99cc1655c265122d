"""Forms of the reports pages."""
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import DataRequired, NumberRange

from forms import BaseForm


class AnnualReportForm(BaseForm):
    year = IntegerField(_l("年度"), validators=[DataRequired(_l("请填写年度。")),
                                              NumberRange(min=2020, max=2100, message=_l("年度须在 2020 至 2100 之间。"))])

    def validate_year(self, field):
        from wtforms.validators import ValidationError
        from app.engine.calendar import SHANGHAI, now
        if field.data and field.data > now().astimezone(SHANGHAI).year:
            raise ValidationError(_l("不能生成未来年度的报告。"))
