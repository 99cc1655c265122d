"""Signed callbacks from the custodian bank (no bearer token: the HMAC signature is the
credential). A forged, stale or replayed notification is refused and changes nothing; a
duplicated one is accepted and changes nothing; one with bad data (an amount that is not a
positive number to the fen, an unknown status) is refused with its fields and changes
nothing, its nonce included, so the bank's corrected resend is accepted."""
from flask import jsonify, request

from app.api import bp
from app.api.openapi import PATHS, STRING, document_responses, op, record
from app.extensions import db
from app.services import escrow
from app.services.errors import ServiceError
from app.services.integrations import verify_request


@bp.post("/integrations/bank/notifications")
def integration_bank_notification():
    verify_request("bank", "BANK_SECRET")
    try:
        status = escrow.receive_notification(request.get_json(silent=True))
    except ServiceError:
        db.session.rollback()
        raise
    return jsonify(status=status)


PATHS["/integrations/bank/notifications"] = {"post": op(
    "Signed bank notification (incoming transaction or instruction result)",
    {"401": {"description": "unsigned, tampered, stale or replayed"},
     "404": {"description": "an instruction reference Wuye never issued (nothing changed)"},
     "422": {"description": "bad amount, serial, direction or status (nothing booked, nonce not used)"}},
    body={"type": "object"})}

document_responses({("/integrations/bank/notifications", "post"): record({"status": STRING})})
