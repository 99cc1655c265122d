"""Wuye (物业监管): the application factory."""
import os

from flask import Flask, g, request, session
from flask_login import current_user

from flask.sessions import SecureCookieSessionInterface
from werkzeug.routing import IntegerConverter

from app import config as config_module
from app.extensions import babel, csrf, db, limiter, login_manager, migrate


class DatabaseId(IntegerConverter):
    """<int:…> in URLs: only ids a database column can hold match (others are a plain 404,
    never an integer-overflow error from PostgreSQL)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class PagesOnlySession(SecureCookieSessionInterface):
    """The API authenticates by bearer token only: it never reads the session cookie, so a
    client that opened a page first (a CSRF token, a signed-in user) is neither let in nor
    turned away by it (Flask-Login's strong session protection refused a valid token when
    the cookie carried a session it had not made)."""

    def open_session(self, app, request):
        if request.path.startswith("/api/"):
            return self.session_class()
        return super().open_session(app, request)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or None, instance_relative_config=True)
    app.url_map.converters["int"] = DatabaseId
    app.session_interface = PagesOnlySession()
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(config_module.load(app.instance_path))
    if test_config:
        app.config.update(test_config)

    from app import i18n
    i18n.compile_catalogs(app)

    db.init_app(app)
    with app.app_context():
        from app.extensions import tune_sqlite
        tune_sqlite(db.engine)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
                    render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=lambda: app.config["BABEL_DEFAULT_TIMEZONE"])
    limiter.init_app(app)
    _init_login(app)

    from app import models  # noqa: F401  (registers every table on the metadata)
    from app.web import register_web
    from app.api import bp as api_bp

    register_web(app)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)

    from app.errors import register_error_handlers
    from app.input_guard import register_input_guard
    from app.security_headers import register_security_headers
    register_error_handlers(app)
    register_security_headers(app)
    register_input_guard(app)
    i18n.register_template_helpers(app)

    from app.cli import register_cli
    register_cli(app)

    from app import jobs, operators
    jobs.init_app(app)
    operators.load_all()
    return app


def _init_login(app: Flask) -> None:
    from sqlalchemy.orm import joinedload

    from app.models import User
    from app.services.users import user_for_token

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        try:
            uid, version = (int(part) for part in user_id.split(":"))
        except ValueError:
            return None
        user = db.session.get(User, uid, options=[joinedload(User.role_rows)])  # one statement, every page
        if user is None or user.session_version != version:
            return None
        return user

    @login_manager.request_loader
    def load_user_from_token(req):
        header = req.headers.get("Authorization", "")
        if not req.path.startswith("/api/") or not header.startswith("Bearer "):
            return None
        found = user_for_token(header[7:].strip())
        if found is None:
            return None
        g.api_token = found[1]
        return found[0]

    @app.context_processor
    def inject_user():
        return {"current_user": current_user, "session": session}
