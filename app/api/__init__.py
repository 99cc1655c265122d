"""JSON API v1: the same services as the pages, authenticated by bearer token only."""
from flask import Blueprint, g
from flask_login import current_user

from app.errors import error_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Endpoints that need no token: the spec, and signed integration callbacks (they check
# their own HMAC signature instead).
PUBLIC_ENDPOINTS = {"api.openapi"}


@bp.before_request
def require_token():
    from flask import request
    if request.endpoint in PUBLIC_ENDPOINTS or (request.endpoint or "").startswith("api.integration_"):
        return None
    if not current_user.is_authenticated or getattr(g, "api_token", None) is None:
        return error_response(401)
    return None


from app.api import core, integrations, orgs, tasks  # noqa: E402,F401  (routes register on bp)
from app.api import hotline  # noqa: E402,F401
from app.api import devices  # noqa: E402,F401
from app.api import fieldwork  # noqa: E402,F401
from app.api import fees  # noqa: E402,F401
