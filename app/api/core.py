"""Who am I, and the OpenAPI document."""
from flask import g, jsonify
from flask_login import current_user

from app.api import bp
from app.api.openapi import PATHS, STRING, array, build_spec, op, record
from app.extensions import db
from app.models.base import utcnow


@bp.get("/me")
def me():
    g.api_token.last_used_at = utcnow()
    db.session.commit()
    return jsonify(username=current_user.username, display_name=current_user.display_name,
                   roles=sorted(current_user.roles))


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_spec())


PATHS["/me"] = {"get": op("The authenticated user and roles", ok=record({
    "username": STRING, "display_name": STRING, "roles": array(STRING)}))}
