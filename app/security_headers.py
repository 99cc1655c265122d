"""Security headers on every response. The CSP allows only our own origin: all front-end
packages are served from node_modules under /vendor/, and bpmn-js needs inline styles.
During a SECRET_KEY rotation every session cookie is signed again with the new key."""
from flask import session


def register_security_headers(app) -> None:
    @app.before_request
    def resign_session_during_a_key_rotation():
        """Flask reads a cookie signed with a key of SECRET_KEY_FALLBACKS but writes it back
        only when the session changes; marking it changed re-signs every active session with
        the new key, so ending the rotation later logs nobody out."""
        if app.config.get("SECRET_KEY_FALLBACKS") and session:
            session.modified = True

    @app.after_request
    def set_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
            "form-action 'self'; base-uri 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
