"""Writing the audit log. Services call `record` before they commit, so the event is part
of the same transaction as the change it describes."""
from datetime import date, datetime
from decimal import Decimal

from flask import has_request_context, request
from flask_login import current_user

from app.extensions import db
from app.jobs import run_alone
from app.models import AuditEvent


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, (Decimal, date, datetime)):
        return str(value)
    return value


def snapshot(obj, fields) -> dict:
    """The listed attributes of a model as JSON-ready values, for before/after."""
    return {f: _plain(getattr(obj, f)) for f in fields}


def record(action: str, target=None, *, before=None, after=None, actor=None, target_type=None, target_id=None):
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    if target is not None:
        target_type = target_type or type(target).__name__
        target_id = target_id if target_id is not None else getattr(target, "id", "")
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", "") or "",
        action=action,
        target_type=target_type or "",
        target_id=str(target_id or ""),
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
        ip=(request.remote_addr or "") if has_request_context() else "",
    )
    db.session.add(event)
    return event


# ---------------------------------------------------------------- tamper evidence

GENESIS = "0" * 64


def entry_hash(event: AuditEvent, prev_hash: str) -> str:
    import hashlib
    import json
    content = {"id": event.id, "at": event.at.isoformat(), "actor_id": event.actor_id, "actor": event.actor_name,
               "action": event.action, "target_type": event.target_type, "target_id": event.target_id,
               "before": event.before, "after": event.after, "ip": event.ip, "prev": prev_hash}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def seal(batch: int = 5000) -> int:
    """Chain the not yet sealed entries, in id order. One sealer at a time (a row lock on
    the last sealed entry on PostgreSQL); entries are only ever appended, so order is stable.
    A second sealer running at the same time stops at once: after waiting for the first one's
    row lock it would read the last entry as it was before, and chain new entries to it."""
    if not run_alone("audit.seal"):
        return 0
    last = db.session.scalar(db.select(AuditEvent).where(AuditEvent.hash.is_not(None))
                             .order_by(AuditEvent.id.desc()).limit(1)
                             .with_for_update() if db.engine.dialect.name == "postgresql" else
                             db.select(AuditEvent).where(AuditEvent.hash.is_not(None))
                             .order_by(AuditEvent.id.desc()).limit(1))
    prev = last.hash if last else GENESIS
    after_id = last.id if last else 0
    sealed = 0
    for event in db.session.scalars(db.select(AuditEvent).where(AuditEvent.id > after_id, AuditEvent.hash.is_(None))
                                    .order_by(AuditEvent.id).limit(batch)):
        event.prev_hash, event.hash = prev, entry_hash(event, prev)
        prev = event.hash
        sealed += 1
    db.session.commit()
    return sealed


def verify_chain() -> AuditEvent | None:
    """The first entry whose chain link is broken (edited, or its predecessor deleted), or None."""
    prev = GENESIS
    for event in db.session.scalars(db.select(AuditEvent).where(AuditEvent.hash.is_not(None))
                                    .order_by(AuditEvent.id).execution_options(yield_per=2000)):
        if event.prev_hash != prev or entry_hash(event, prev) != event.hash:
            return event
        prev = event.hash
    return None
