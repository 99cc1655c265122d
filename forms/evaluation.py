"""Forms of the annual evaluation (bpmn/annual_evaluation.bpmn) and its pages: a department's
scoring task (one field per item it scores, each limited to the item's maximum), the
objection decision, the scoring standard's pages and the public objection form."""
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, DecimalField, IntegerField, RadioField, SelectField, StringField, \
    TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from forms import BaseForm


def _department_choices():
    from app.roles import role_name
    from app.services.scoring import SCORING_DEPARTMENTS
    return [(code, role_name(code)) for code in SCORING_DEPARTMENTS]


class ScoreForm(BaseForm):
    """A department scores the items it owns; a score above an item's maximum is refused at
    that item's field. The item fields are added per task (they depend on the standard)."""

    note = TextAreaField(_l("评分说明"), validators=[Optional(), Length(max=500)],
                         description=_l("扣分的事实与依据"))

    def __init__(self, formdata=None, data=None, **kwargs):
        self._raw_formdata, self._initial = formdata, data or {}
        super().__init__(formdata=formdata, data=data, **kwargs)

    def bind_task(self, row) -> None:
        from app.services.evaluation import scoring_items
        note = self._fields.pop("note")
        for item in scoring_items(row):
            maximum = item.max_points
            unbound = DecimalField(
                f"{item.code} {item.description}（{_('满分')} {maximum}）", places=2,
                description=item.deduction_rules,
                validators=[InputRequired(_("请填写本项得分。")),
                            NumberRange(min=Decimal("0"), max=maximum,
                                        message=_("得分须在 0 至 %(max)s 分之间（本项满分 %(max)s 分）。", max=maximum))])
            name = f"i{item.id}"
            field = unbound.bind(form=self, name=name, prefix=self._prefix)
            if self._raw_formdata is not None:
                field.process(self._raw_formdata)
            else:
                field.process(None, data=self._initial.get(name))
            self._fields[name] = field
        self._fields["note"] = note
        if "submit" in self._fields:
            self._fields["submit"] = self._fields.pop("submit")


class ObjectionForm(BaseForm):
    """The housing center answers one objection; an accepted one adjusts one item's points."""

    decision = RadioField(_l("处理结果"), choices=[("accept", _l("采纳，调整得分")), ("reject", _l("不予采纳"))],
                          validators=[DataRequired(_l("请选择处理结果。"))])
    item_code = SelectField(_l("调整的考评条目"), choices=[], validate_choice=False)
    adjustment = DecimalField(_l("调整分值"), places=2, validators=[Optional()],
                              description=_l("加分为正数，扣分为负数；调整后本项得分须在 0 至满分之间"))
    reply = TextAreaField(_l("答复意见"), validators=[DataRequired(_l("请填写答复意见。")), Length(max=2000)])

    def bind_task(self, row) -> None:
        from app.services.evaluation import for_instance, pending_objection
        ev = for_instance(row.instance_id)
        self.item_code.choices = [("", _("— 不调整 —"))]
        if ev is None:  # e.g. a trial run in the modeler: no evaluation behind the case
            return
        self.item_code.choices += [
            (i.code, f"{i.code} {i.description}（{_('满分')} {i.max_points}）") for i in ev.standard.items]
        objection = pending_objection(ev)
        if objection is not None:
            # Everyone who can read the case sees this form; the owner's name stays on the evaluation page.
            who = f"{_('企业')} {objection.name}" if objection.raised_by == "enterprise" else _("业主")
            self.decision.description = f"{who}：{objection.content}"

    def check_task(self, user, row) -> dict:
        from app.services.evaluation import check_decision
        return check_decision(row, {"decision": self.decision.data, "item_code": self.item_code.data,
                                    "adjustment": self.adjustment.data})


class StandardForm(BaseForm):
    year = IntegerField(_l("年度"), validators=[InputRequired(_l("请填写年度。")), NumberRange(2000, 2100)])
    title = StringField(_l("名称"), validators=[Optional(), Length(max=200)])
    copy_from = IntegerField(_l("复制自年度"), validators=[Optional()], description=_l("留空则新建空白标准"))


class ItemForm(BaseForm):
    section_code = StringField(_l("分项编号"), validators=[DataRequired(_l("请填写分项编号。")), Length(max=20)])
    section_title = StringField(_l("分项名称"), validators=[DataRequired(_l("请填写分项名称。")), Length(max=200)])
    code = StringField(_l("条目编号"), validators=[DataRequired(_l("请填写条目编号。")), Length(max=20)])
    description = StringField(_l("考评内容"), validators=[DataRequired(_l("请填写考评内容。")), Length(max=500)])
    max_points = DecimalField(_l("分值"), places=2, validators=[InputRequired(_l("请填写分值。")),
                                                                NumberRange(min=Decimal("0.01"), max=Decimal("100"))])
    deduction_rules = TextAreaField(_l("扣分标准"), validators=[Optional(), Length(max=2000)])
    department = SelectField(_l("评分部门"), choices=[])
    is_bonus = BooleanField(_l("加分项（可使总分超过 100 分）"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.department.choices = _department_choices()


class ImportForm(BaseForm):
    file = FileField(_l("评分标准文件（Excel 或 CSV）"))


class OpenYearForm(BaseForm):
    year = IntegerField(_l("考评年度"), validators=[InputRequired(_l("请填写年度。")), NumberRange(2000, 2100)])
    scoring_due = DateField(_l("部门评分截止日期"), validators=[InputRequired(_l("请填写评分截止日期。"))])


class ObjectionRaiseForm(BaseForm):
    """An objection during the disclosure period: owners give a name and a phone number."""

    name = StringField(_l("姓名"), validators=[Optional(), Length(max=100)])
    phone = StringField(_l("手机号码"), validators=[Optional(), Length(max=20)], description=_l("仅用于联系答复，公开时脱敏"))
    content = TextAreaField(_l("异议内容"), validators=[DataRequired(_l("请填写异议内容。")), Length(max=2000)])
