"""Accepting signed callbacks from outside (bank, device platform, 12345 hotline)."""
from flask import current_app, request

from app.extensions import db, insert_or_skip
from app.integrations.signing import SignatureError, verify
from app.models.base import utcnow
from app.models.integration import IntegrationNonce
from app.services.errors import ServiceError


class SignatureRefused(ServiceError):
    status = 401
    code = "bad_signature"


def _seen(source: str):
    def seen_nonce(nonce: str) -> bool:
        """Records the nonce; True if it was recorded before (a replay). One statement: a
        second request with the same nonce in flight waits for the first to commit or not."""
        table = IntegrationNonce.__table__
        stmt = (insert_or_skip(table, ["source", "nonce"]).values(source=source, nonce=nonce[:100], seen_at=utcnow())
                .returning(table.c.id))
        return db.session.execute(stmt).first() is None
    return seen_nonce


def verify_request(source: str, secret_name: str) -> None:
    """Refuse (401, nothing changed) an unsigned, tampered, stale or replayed request signed
    with the configured secret `secret_name` (or, during a rotation, `<secret_name>_PREVIOUS`).
    The nonce is recorded in the caller's transaction, so it sticks only if the use case commits."""
    secrets = [s for s in (current_app.config[secret_name], current_app.config.get(f"{secret_name}_PREVIOUS")) if s]
    try:
        error = None
        for secret in secrets:
            try:
                verify(secret, request.method, request.path, request.headers, request.get_data(),
                       seen_nonce=_seen(source))
                return
            except SignatureError as e:
                error = e
                if e.code != "bad_signature":
                    raise
        raise error
    except SignatureError as e:
        db.session.rollback()
        messages = {"missing": "缺少签名。", "bad_signature": "签名不正确。", "expired": "签名已过期。",
                    "replayed": "重复的请求（nonce 已使用）。"}
        raise SignatureRefused(messages[e.code], {"signature": e.code})
