from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.validators import is_valid_id_number, is_valid_uscc
from forms import BaseForm


def uscc_valid(form, field):
    if field.data and not is_valid_uscc(field.data.strip().upper()):
        raise ValidationError(_l("统一社会信用代码格式或校验位不正确。"))


def id_number_valid(form, field):
    if field.data and not is_valid_id_number(field.data.strip().upper()):
        raise ValidationError(_l("身份证号码格式或校验位不正确。"))


class EnterpriseForm(BaseForm):
    name = StringField(_l("企业名称"), validators=[DataRequired(_l("请填写企业名称。")), Length(max=200)])
    uscc = StringField(_l("统一社会信用代码"), validators=[DataRequired(_l("请填写统一社会信用代码。")), uscc_valid],
                       description=_l("18 位，含校验位"))
    legal_rep_name = StringField(_l("法定代表人"), validators=[Optional(), Length(max=50)])
    legal_rep_id_number = StringField(_l("法定代表人身份证号"), validators=[Optional(), id_number_valid])
    contact_name = StringField(_l("联系人"), validators=[Optional(), Length(max=50)])
    contact_phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=30)])
    address = StringField(_l("地址"), validators=[Optional(), Length(max=300)])
    is_public_benefit = BooleanField(_l("公益性基础服务企业"))
    submit = SubmitField(_l("保存"))


class CalendarDayForm(BaseForm):
    """An administrator records a statutory holiday or an adjusted working day (调休)."""

    day = DateField(_l("日期"), validators=[DataRequired(_l("请选择日期。"))])
    kind = SelectField(_l("类型"), choices=[("holiday", _l("法定节假日（休息）")), ("workday", _l("调休上班"))])
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称，如“春节”。")), Length(max=60)])
    submit = SubmitField(_l("保存"))


class SubstituteForm(BaseForm):
    username = StringField(_l("代理人用户名"), validators=[DataRequired(_l("请填写代理人用户名。")), Length(max=64)])
    starts_on = DateField(_l("开始日期"), validators=[DataRequired(_l("请选择开始日期。"))])
    ends_on = DateField(_l("结束日期"), validators=[DataRequired(_l("请选择结束日期。"))])
    submit = SubmitField(_l("设置代理"))

    def validate_ends_on(self, field):
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError(_l("结束日期不能早于开始日期。"))
