"""Forms of owner satisfaction surveys: opening one for a community, and the public answer
form (five questions on a five-point scale, an optional comment)."""
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from forms import BaseForm


class SurveyOpenForm(BaseForm):
    community_id = SelectField(_l("小区"), coerce=int, validate_choice=False,
                               validators=[DataRequired(_l("请选择小区。"))])
    households = IntegerField(_l("户数"), description=_l("不填则按小区登记的户数"),
                              validators=[Optional(), NumberRange(min=1, max=5000)])

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.community_id.choices = [(0, _l("— 选择小区 —"))] + [
            (c.id, f"{c.name}（{c.street_office.name}，{c.households} 户）") for c in communities]


def _question(label):
    from app.services.surveys import SCALE
    return RadioField(label, coerce=int, choices=[(k, v) for k, v in SCALE.items()],
                      validators=[DataRequired(_l("请选择满意程度。"))])


class SurveyAnswerForm(BaseForm):
    attitude = _question(_l("服务态度"))
    cleanliness = _question(_l("环境卫生"))
    security = _question(_l("安全秩序"))
    maintenance = _question(_l("设施设备维护"))
    overall = _question(_l("总体满意度"))
    comment = TextAreaField(_l("意见和建议（选填）"), description=_l("请勿填写姓名、电话等个人信息"),
                            validators=[Length(max=1000)])
