"""Signed work orders from the 12345 government hotline (no bearer token: the HMAC
signature is the credential). A forged, stale or replayed call, or a work order without
content, is refused and changes nothing; the same work-order number again is merged into
the first, never a second case."""
from flask import jsonify, request
from flask_babel import gettext as _

from app.api import bp
from app.api.openapi import BOOLEAN, INTEGER, PATHS, nullable, op, record
from app.extensions import db
from app.services import disputes
from app.services.errors import ServiceError, ValidationFailed
from app.services.integrations import verify_request


@bp.post("/integrations/hotline/work-orders")
def integration_hotline_work_order():
    verify_request("hotline", "HOTLINE_SECRET")
    body = request.get_json(silent=True)
    try:
        if not isinstance(body, dict):
            raise ValidationFailed(_("请求体须为 JSON 对象。"), {"body": _("请求体须为 JSON 对象。")})
        dispute, created = disputes.receive_work_order(body)
    except ServiceError:
        db.session.rollback()  # nothing changed, the nonce included: a corrected resend is accepted
        raise
    return jsonify(status="created" if created else "merged", dispute_id=dispute.id, case_id=dispute.instance_id,
                   matched=dispute.community_id is not None, duplicates=dispute.duplicates), 201 if created else 200


PATHS["/integrations/hotline/work-orders"] = {"post": op(
    "Signed 12345 hotline work order (created, or merged into the same number)",
    {"201": {"description": "a new dispute case"}, "401": {"description": "unsigned, tampered, stale or replayed"}},
    body={"type": "object", "required": ["work_order_no", "content"], "properties": {
        "work_order_no": {"type": "string"}, "received_at": {"type": "string", "format": "date-time"},
        "caller_name": {"type": "string"}, "caller_phone": {"type": "string"}, "address": {"type": "string"},
        "category": {"type": "string"}, "content": {"type": "string"},
        "deadline": {"type": "string", "format": "date-time"}}},
    ok=record({"status": {"type": "string", "enum": ["created", "merged"]}, "dispute_id": INTEGER,
               "case_id": nullable(INTEGER), "matched": BOOLEAN, "duplicates": INTEGER}))}
