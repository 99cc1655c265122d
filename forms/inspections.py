"""Forms of daily inspections: the inspector's form (mobile-friendly: checkboxes, a few
finding rows, photos from the camera), the enterprise's response and appeal, and the
housing center's decision on an appeal."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import DateField, DecimalField, FieldList, Form, FormField, IntegerField, RadioField, SelectField
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from forms import BaseForm
from forms.contracts import MultiCheckboxField

FINDING_ROWS = 3


def _checklist():
    from app.services.inspections import CHECKLIST
    return [(c, c) for c in CHECKLIST]


class FindingForm(Form):
    """One finding row; an empty row is ignored."""

    item = SelectField(_l("检查项目"), choices=lambda: [("", _l("— 选择 —"))] + _checklist(), validate_choice=False)
    description = StringField(_l("发现的问题"), validators=[Length(max=2000)])
    points = DecimalField(_l("扣分"), places=2, validators=[Optional(), NumberRange(min=0, max=20)])
    days = IntegerField(_l("整改期限（工作日）"), default=5, validators=[Optional(), NumberRange(min=1, max=60)])


class InspectionForm(BaseForm):
    community_id = SelectField(_l("小区"), coerce=int, validate_choice=False,
                               validators=[DataRequired(_l("请选择小区。"))])
    inspected_on = DateField(_l("检查日期"), validators=[DataRequired(_l("请填写检查日期。"))])
    items = MultiCheckboxField(_l("检查项目"), choices=_checklist)
    findings = FieldList(FormField(FindingForm), min_entries=FINDING_ROWS, max_entries=10)
    note = TextAreaField(_l("检查情况"), validators=[Length(max=4000)])
    photos = MultipleFileField(_l("现场照片"), description=_l("JPG 或 PNG，最多 9 张"),
                               render_kw={"accept": "image/jpeg,image/png", "capture": "environment"})

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.community_id.choices = [(0, _l("— 选择小区 —"))] + [
            (c.id, f"{c.name}（{c.street_office.name}）") for c in communities]


class ResponseForm(BaseForm):
    response = TextAreaField(_l("整改情况"), validators=[DataRequired(_l("请填写整改情况。")), Length(max=4000)])


class AppealForm(BaseForm):
    reason = TextAreaField(_l("申诉理由"), validators=[DataRequired(_l("请填写申诉理由。")), Length(max=4000)])


class AppealDecisionForm(BaseForm):
    accepted = RadioField(_l("决定"), choices=[("yes", _l("申诉成立，扣分作废")), ("no", _l("驳回申诉"))],
                          validators=[DataRequired(_l("请选择决定。"))])
    note = TextAreaField(_l("说明"), validators=[Length(max=4000)])
