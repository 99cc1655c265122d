"""Rendered public pages (a community's disclosure page, the ranking), kept for a minute per
process so that a crowd scanning a community's QR code costs little.

Any committed change to what those pages show (a disclosure, an enterprise's risk status or
stars, a community's grade, an evaluation or objection, a contract) empties this process's
cache when the transaction commits, not before, so a page rendered meanwhile cannot keep the
old state. Other processes catch up within the minute; escrow balances may lag by as much."""
import time

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

SECONDS = 60
SHOWN = {"Disclosure", "Enterprise", "Community", "Evaluation", "EvaluationObjection", "Contract",
         "HighRiskListing"}
MAX_ENTRIES = 5000


def _cache() -> dict:
    """Kept on the app, so each app (and each test's app, with its own database) has its own."""
    return current_app.extensions.setdefault("wuye_public_cache", {})


def get(key, build):
    """The cached rendering for `key`, or `build()`'s (cached for SECONDS)."""
    cache = _cache()
    hit = cache.get(key)
    if hit and time.monotonic() - hit[0] < SECONDS:
        return hit[1]
    value = build()
    if len(cache) > MAX_ENTRIES:
        cache.clear()
    cache[key] = (time.monotonic(), value)
    return value


def clear() -> None:
    _cache().clear()


@event.listens_for(Session, "after_flush")
def _note_changes(session, _context) -> None:
    if any(type(o).__name__ in SHOWN for o in (*session.new, *session.dirty, *session.deleted)):
        session.info["public_pages_stale"] = True


@event.listens_for(Session, "after_commit")
def _drop_on_commit(session) -> None:
    if session.info.pop("public_pages_stale", False) and has_app_context():
        clear()  # (a change rolled back leaves the flag for the next commit: one needless clear)
