"""Writing the audit log. Services call `record` before they commit, so the event is part
of the same transaction as the change it describes."""
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import has_request_context, request
from flask_login import current_user

from app.extensions import db
from app.jobs import run_alone
from app.models import AuditChainHead, AuditEvent
from app.models.base import utcnow

log = logging.getLogger(__name__)


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
#
# Entries are written inside each use case's transaction and chained afterwards by the
# sealer (every minute), in the order it finds them committed: sealing at write would hold
# one lock on the chain head from the first audited change to the commit of every
# transaction, and so run the whole application one transaction at a time. What the
# chain cannot vouch for yet is bounded instead: `verify_chain` reports an edited or deleted
# sealed entry, a chain shorter than its stored head (the newest entries deleted), and an
# entry left unsealed longer than UNSEALED_GRACE (the sealer is stopped, or a sealed entry
# was taken out of the chain).

GENESIS = "0" * 64
HEAD_ID = 1
UNSEALED_GRACE = timedelta(minutes=10)  # the sealer runs every minute; a long transaction commits late


@dataclass
class ChainProblem:
    kind: str  # broken | truncated | unsealed
    id: int | None  # the entry concerned
    message: str


def entry_hash(event: AuditEvent, prev_hash: str) -> str:
    import hashlib
    import json
    content = {"id": event.id, "at": event.at.isoformat(), "actor_id": event.actor_id, "actor": event.actor_name,
               "action": event.action, "target_type": event.target_type, "target_id": event.target_id,
               "before": event.before, "after": event.after, "ip": event.ip, "prev": prev_hash}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def chain_head() -> AuditChainHead | None:
    return db.session.get(AuditChainHead, HEAD_ID)


def seal(batch: int = 5000) -> int:
    """Chain every entry not sealed yet, oldest id first, after the current head. One sealer
    at a time (an advisory lock, and the head row locked on PostgreSQL); an entry whose
    transaction commits after a later one was sealed is chained in the next run, never skipped."""
    if not run_alone("audit.seal"):
        return 0
    head = db.session.get(AuditChainHead, HEAD_ID, with_for_update=True, populate_existing=True)
    if head is None:
        if db.session.scalar(db.select(AuditEvent.id).where(AuditEvent.chain_seq.is_not(None)).limit(1)):
            log.error("audit chain head is missing while sealed entries exist: not sealing; run `flask audit verify`")
            db.session.rollback()
            return 0
        head = AuditChainHead(id=HEAD_ID, entries=0, last_hash=GENESIS)
        db.session.add(head)
    sealed = 0
    while True:
        events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.chain_seq.is_(None))
                                    .order_by(AuditEvent.id).limit(batch)).all()
        for event in events:
            head.entries += 1
            event.chain_seq, event.prev_hash = head.entries, head.last_hash
            event.hash = head.last_hash = entry_hash(event, head.last_hash)
            head.last_id = event.id
        sealed += len(events)
        if events:
            head.sealed_at = utcnow()
        db.session.commit()
        if len(events) < batch:
            return sealed
        if not run_alone("audit.seal"):  # the lock ended with the commit
            return sealed
        head = db.session.get(AuditChainHead, HEAD_ID, with_for_update=True, populate_existing=True)


def verify_chain(now: datetime | None = None) -> ChainProblem | None:
    """The first problem of the audit log, or None: a sealed entry edited or deleted (the
    link to the next one breaks), the newest sealed entries deleted (the chain ends before
    its head), or an entry still unsealed after UNSEALED_GRACE."""
    prev, seq, last_id = GENESIS, 0, None
    for event in db.session.scalars(db.select(AuditEvent).where(AuditEvent.chain_seq.is_not(None))
                                    .order_by(AuditEvent.chain_seq).execution_options(yield_per=2000)):
        seq += 1
        if event.chain_seq != seq or event.prev_hash != prev or entry_hash(event, prev) != event.hash:
            return ChainProblem("broken", event.id, f"audit chain broken at entry {event.id} "
                                                    f"({event.at.isoformat()} {event.action})")
        prev, last_id = event.hash, event.id
    head = chain_head()
    if ((head.entries, head.last_hash) if head else (0, GENESIS)) != (seq, prev):
        expected = f"{head.entries} entries up to entry {head.last_id}" if head else "no head"
        return ChainProblem("truncated", head.last_id if head else last_id,
                            f"audit chain truncated: the head says {expected}, the chain has {seq} entries"
                            + (f" up to entry {last_id}" if last_id else ""))
    outside = db.session.scalar(db.select(AuditEvent).where(AuditEvent.chain_seq.is_(None), db.or_(
        AuditEvent.hash.is_not(None), AuditEvent.at < (now or utcnow()) - UNSEALED_GRACE))
        .order_by(AuditEvent.id).limit(1))
    if outside is not None:
        return ChainProblem("unsealed", outside.id, f"audit entry {outside.id} ({outside.at.isoformat()} "
                                                    f"{outside.action}) is not in the chain")
    return None
