"""WTForms classes, one module per domain. User tasks in BPMN name their form by key
(`filing.FilingForm` → forms/filing.py, class FilingForm); see `registry`."""
from flask_wtf import FlaskForm


class BaseForm(FlaskForm):
    """Every form has CSRF protection (Flask-WTF) and Chinese messages by default."""

    class Meta:
        locales = ["zh_CN", "zh"]

    def add_errors(self, errors: dict) -> None:
        """Show a service's {field name as in the page: message} at its fields, the rows of
        a FieldList included ("communities-0-name"); a message already shown is not repeated."""
        fields = {}

        def walk(form):
            for field in form:
                fields[field.name] = field
                for entry in getattr(field, "entries", ()):
                    if hasattr(entry, "form"):
                        walk(entry.form)
        walk(self)
        for name, message in errors.items():
            field = fields.get(name)
            if field is not None and message not in field.errors:
                field.errors = list(field.errors) + [message]

    def uploaded_table(self, field_name: str = "file", limit: int = 5 * 1024 * 1024) -> tuple[str, bytes] | None:
        """(filename, content) of an import page's uploaded table, or None with the error
        at the field. Reads at most `limit` bytes."""
        from flask_babel import gettext as _
        field = self._fields[field_name]
        upload = field.data
        if not upload or not getattr(upload, "filename", ""):
            field.errors = list(field.errors) + [_("请选择文件。")]
            return None
        return upload.filename, upload.read(limit)
