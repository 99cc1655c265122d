"""HMAC-SHA256 request signing, both directions (our calls out, their callbacks in).

Headers: X-Wuye-Key (key id), X-Wuye-Timestamp (unix seconds), X-Wuye-Nonce, and
X-Wuye-Signature = hex HMAC-SHA256 over "METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nsha256(body)".
A request outside the time window, or whose nonce was seen before, is refused.
"""
import hashlib
import hmac
import secrets
import time
from typing import Callable


class SignatureError(Exception):
    """code: missing | bad_signature | expired | replayed"""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _canonical(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body or b"").hexdigest()]).encode()


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(secret.encode(), _canonical(method, path, timestamp, nonce, body), hashlib.sha256).hexdigest()


def sign_headers(secret: str, key_id: str, method: str, path: str, body: bytes, *, now: float | None = None) -> dict:
    timestamp = str(int(now if now is not None else time.time()))
    nonce = secrets.token_hex(16)
    return {"X-Wuye-Key": key_id, "X-Wuye-Timestamp": timestamp, "X-Wuye-Nonce": nonce,
            "X-Wuye-Signature": signature(secret, method, path, timestamp, nonce, body)}


def verify(secret: str, method: str, path: str, headers, body: bytes, *, now: float | None = None,
           window: int = 300, seen_nonce: Callable[[str], bool] | None = None) -> None:
    """Raise SignatureError unless the request is signed with `secret`, fresh and new.
    `seen_nonce(nonce)` returns True if the nonce was already used, and records it."""
    timestamp, nonce, given = (headers.get("X-Wuye-Timestamp"), headers.get("X-Wuye-Nonce"),
                               headers.get("X-Wuye-Signature"))
    if not (timestamp and nonce and given):
        raise SignatureError("missing")
    expected = signature(secret, method, path, timestamp, nonce, body)
    if not hmac.compare_digest(expected, given):
        raise SignatureError("bad_signature")
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        raise SignatureError("bad_signature")
    if age > window:
        raise SignatureError("expired")
    if seen_nonce is not None and seen_nonce(nonce):
        raise SignatureError("replayed")
