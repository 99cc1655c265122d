"""Error pages and API error bodies. Pages get a helpful page in the user's language;
/api/ gets `{"error": code, "message": ..., "fields": {...}}`. Internals are never shown."""
from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.services.errors import ServiceError

MESSAGES = {
    400: ("bad_request", lambda: _("请求无效。")),
    401: ("unauthorized", lambda: _("请先登录或提供有效的访问令牌。")),
    403: ("forbidden", lambda: _("您没有权限访问此页面或执行此操作。")),
    404: ("not_found", lambda: _("找不到您要的页面或记录。")),
    405: ("method_not_allowed", lambda: _("不支持该请求方法。")),
    409: ("conflict", lambda: _("数据已被他人修改，请刷新后重试。")),
    413: ("too_large", lambda: _("提交的内容过大。")),
    422: ("validation_failed", lambda: _("提交的数据有误。")),
    429: ("too_many_requests", lambda: _("操作过于频繁，请稍后再试。")),
    500: ("internal_error", lambda: _("系统出现错误，已记录，请稍后再试。")),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str | None = None, code: str | None = None, fields=None):
    default_code, default_message = MESSAGES.get(status, MESSAGES[500])
    message = message or default_message()
    code = code or default_code
    if wants_json():
        return jsonify(error=code, message=message, fields=fields or {}), status
    return render_template("error.html", status=status, message=message), status


def register_error_handlers(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return error_response(400, _("页面已过期或缺少安全令牌，请刷新页面后重新提交。"), "csrf_failed")

    @app.errorhandler(ServiceError)
    def service_error(e):
        return error_response(e.status, e.message, e.code, e.fields)

    @app.errorhandler(HTTPException)
    def http_error(e):
        return error_response(e.code or 500)

    @app.errorhandler(Exception)
    def unexpected(e):
        app.logger.exception("unhandled error")
        from app.extensions import db
        db.session.rollback()
        return error_response(500)
