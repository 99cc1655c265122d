"""Forms of the process modeler pages: a new model, deploy with a change note, import a
.bpmn/.dmn file, a new decision table, migrate running instances, sandbox test runs."""
import json

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from forms import BaseForm


class NewModelForm(BaseForm):
    """新建流程模型"""
    key = StringField(_l("标识"), validators=[DataRequired(_l("请填写标识。")), Regexp(
        r"^[a-z][a-z0-9_]{1,79}$", message=_l("标识须以小写字母开头，只含小写字母、数字和下划线（2–80 个字符）。"))],
        description=_l("英文标识，例如 contract_review；部署后不能更改。"))
    name = StringField(_l("流程名称"), validators=[DataRequired(_l("请填写流程名称。")), Length(max=200)])


class DeployForm(BaseForm):
    """部署新版本"""
    note = TextAreaField(_l("变更说明"), validators=[DataRequired(_l("请填写变更说明。")),
                                                  Length(max=500, message=_l("变更说明不能超过 500 字。"))],
                         description=_l("写明本次修改了什么、为什么修改；记入审计日志。"))
    lock_version = HiddenField()


class ImportForm(BaseForm):
    """导入 BPMN/DMN 文件"""
    file = FileField(_l("模型文件"), description=_l(".bpmn 文件替换草稿中的流程图；.dmn 文件加入或替换同名决策表。"))


class NewDecisionForm(BaseForm):
    """新建决策表"""
    filename = StringField(_l("文件名"), validators=[DataRequired(_l("请填写文件名。")), Regexp(
        r"^[A-Za-z0-9_\-\u4e00-\u9fff]{1,80}\.dmn$", message=_l("文件名只能含字母、数字、汉字、下划线和连字符，并以 .dmn 结尾。"))])
    decision_id = StringField(_l("决策标识"), validators=[DataRequired(_l("请填写决策标识。")), Regexp(
        r"^[A-Za-z_][A-Za-z0-9_]{0,79}$", message=_l("决策标识须以字母或下划线开头，只含字母、数字和下划线。"))],
        description=_l("业务规则任务以此标识调用决策表（calledDecisionId）。"))
    name = StringField(_l("决策名称"), validators=[DataRequired(_l("请填写决策名称。")), Length(max=200)])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MigrationForm(BaseForm):
    """迁移运行中的案件"""
    instance_ids = MultiCheckboxField(_l("迁移的案件"), coerce=int,
                                      validators=[DataRequired(_l("请至少选择一件可以迁移的案件。"))])


def _json_object(form, field):
    text = (field.data or "").strip()
    if not text:
        field.parsed = {}
        return
    try:
        value = json.loads(text)
    except ValueError as e:
        raise ValidationError(_l("不是有效的 JSON：%(error)s", error=str(e)))
    if not isinstance(value, dict):
        raise ValidationError(_l("须为 JSON 对象，例如 {\"amount\": \"100.00\"}。"))
    field.parsed = value


class TrialStartForm(BaseForm):
    """试运行：启动"""
    payload = TextAreaField(_l("样例数据（JSON）"), validators=[Length(max=20000), _json_object],
                         description=_l("流程启动时的数据，例如 {\"review_days\": 5}。"))


class TrialStepForm(BaseForm):
    """试运行：办理一步"""
    action = HiddenField(validators=[DataRequired()])
    target = HiddenField()
    payload = TextAreaField(_l("提交的数据（JSON）"), validators=[Length(max=20000), _json_object])
