"""Signed callbacks from the custodian bank (no bearer token: the HMAC signature is the
credential). A forged, stale or replayed notification is refused and changes nothing; a
duplicated one is accepted and changes nothing."""
from flask import jsonify, request

from app.api import bp
from app.api.openapi import PATHS, STRING, document_responses, op, record
from app.extensions import db
from app.models import EscrowAccount
from app.services import escrow
from app.services.integrations import verify_request


@bp.post("/integrations/bank/notifications")
def integration_bank_notification():
    verify_request("bank", "BANK_SECRET")
    body = request.get_json(silent=True) or {}
    if body.get("type") == "transaction":
        account = db.session.scalar(db.select(EscrowAccount).where(EscrowAccount.account_no == body.get("account_no")))
        posted = escrow.post_bank_transaction(account, body) if account else None
        db.session.commit()
        return jsonify(status="posted" if posted else "ignored")
    if body.get("type") == "instruction":
        escrow.settle_instruction(str(body.get("reference")), str(body.get("status")), serial=body.get("serial"),
                                  bank_ref=body.get("bank_ref"))
        db.session.commit()
        return jsonify(status="recorded")
    db.session.commit()  # keep the nonce: the same request must not be accepted again
    return jsonify(status="ignored")


PATHS["/integrations/bank/notifications"] = {"post": op(
    "Signed bank notification (incoming transaction or instruction result)",
    {"401": {"description": "unsigned, tampered, stale or replayed"}}, body={"type": "object"})}

document_responses({("/integrations/bank/notifications", "post"): record({"status": STRING})})
