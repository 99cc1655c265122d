from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from forms import BaseForm


class LoginForm(BaseForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请填写用户名。")), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码。")), Length(max=200)])
    remember = BooleanField(_l("记住我"))
    submit = SubmitField(_l("登录"))


class PasswordChangeForm(BaseForm):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请填写当前密码。"))])
    new_password = PasswordField(
        _l("新密码"), validators=[DataRequired(_l("请填写新密码。")), Length(min=10, max=200, message=_l("密码至少 10 位。"))],
        description=_l("至少 10 位，须同时包含字母和数字。"),
    )
    confirm = PasswordField(_l("确认新密码"), validators=[EqualTo("new_password", _l("两次输入的新密码不一致。"))])
    submit = SubmitField(_l("修改密码"))
