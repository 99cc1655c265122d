"""Refuse NUL characters in any request input before it reaches a service.

PostgreSQL cannot store U+0000 in text or JSON, so such input would otherwise fail deep in
a flush as a server error; no legitimate form or API client sends it."""
from flask import request
from flask_babel import gettext as _

from app.errors import error_response

NUL = "\x00"


def _contains_nul(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_contains_nul(v) for v in value)
    return False


def _request_has_nul() -> bool:
    if NUL in request.path or _contains_nul(list(request.args.items(multi=True))):
        return True
    if request.mimetype == "application/json":
        return _contains_nul(request.get_json(silent=True))
    return _contains_nul(list(request.form.items(multi=True)))


def register_input_guard(app) -> None:
    @app.before_request
    def refuse_nul_characters():
        if _request_has_nul():
            return error_response(400, _("输入中含有不允许的控制字符。"), "bad_input")
        return None
