"""Signed event pushes from the device platform (no bearer token: the HMAC signature is the
credential). A forged, stale or replayed push or a malformed event is refused and changes
nothing; the same event id again (the platform resends until acknowledged) is acknowledged
and stored once. An event of a device that is not registered here does not refuse the push:
it is kept for the housing center (the answer counts it as "unknown") and the others are
stored."""
from flask import jsonify, request
from flask_babel import gettext as _

from app.api import bp
from app.api.openapi import INTEGER, PATHS, STRING, document_responses, op, record
from app.extensions import db
from app.services import device_events
from app.services.errors import ServiceError, ValidationFailed
from app.services.integrations import verify_request


@bp.post("/integrations/devices/events")
def integration_device_events():
    verify_request("devices", "DEVICE_SECRET")
    body = request.get_json(silent=True)
    try:
        if not isinstance(body, dict):
            raise ValidationFailed(_("请求体须为 JSON 对象。"), {"body": _("请求体须为 JSON 对象。")})
        result = device_events.receive_push(body)
    except ServiceError:
        db.session.rollback()  # nothing changed, the nonce included: a corrected resend is accepted
        raise
    return jsonify(status="ok", **result)


_EVENT = {"type": "object", "required": ["event_id", "device_serial", "type", "occurred_at"], "properties": {
    "event_id": {"type": "string", "maxLength": 64}, "device_serial": {"type": "string", "maxLength": 64},
    "type": {"type": "string"}, "occurred_at": {"type": "string", "format": "date-time"},
    "data": {"type": "object"}}}

PATHS["/integrations/devices/events"] = {"post": op(
    "Signed device-platform event push (one event, or {events: [...]}); stored once per event id",
    {"401": {"description": "unsigned, tampered, stale or replayed"},
     "200": {"description": "accepted: counts of new, duplicate and unknown-device events (the latter kept apart)"},
     "422": {"description": "malformed event (nothing stored)"}},
    body={"oneOf": [_EVENT, {"type": "object", "required": ["events"],
                             "properties": {"events": {"type": "array", "items": _EVENT, "maxItems": 1000}}}]})}

document_responses({("/integrations/devices/events", "post"): record({
    "status": STRING, "accepted": INTEGER, "duplicates": INTEGER, "unknown": INTEGER})})
