"""WTForms classes, one module per domain. User tasks in BPMN name their form by key
(`filing.FilingForm` → forms/filing.py, class FilingForm); see `registry`."""
from flask_wtf import FlaskForm


class BaseForm(FlaskForm):
    """Every form has CSRF protection (Flask-WTF) and Chinese messages by default."""

    class Meta:
        locales = ["zh_CN", "zh"]
