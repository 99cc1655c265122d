"""Rendered public pages (a community's disclosure page, the ranking), kept for a minute so
that a crowd scanning a community's QR code costs little.

With Redis (REDIS_URL, production), the pages are kept there and shared by every web
process: a page one process rendered serves them all. Without it (the embedded default, one
process) they are kept in the process. Redis unreachable: pages are rendered uncached, never
refused.

Any committed change to what those pages show (a disclosure, an enterprise's risk status or
stars, a community's grade, an evaluation or objection, a contract) empties the cache when
the transaction commits, not before, so a page rendered meanwhile cannot keep the old
state; in Redis for every process at once (each entry carries the generation it was
rendered in, and a change moves the generation on). Escrow balances may lag by the minute.
"""
import hashlib
import json
import logging
import time

from flask import current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

SECONDS = 60
SHOWN = {"Disclosure", "Enterprise", "Community", "Evaluation", "EvaluationObjection", "Contract",
         "HighRiskListing"}
MAX_ENTRIES = 5000
log = logging.getLogger(__name__)


class _ProcessPages:
    """The pages this process rendered (a bounded dict)."""

    def __init__(self):
        self.pages = {}

    def get(self, key, build):
        hit = self.pages.get(key)
        if hit and time.monotonic() - hit[0] < SECONDS:
            return hit[1]
        value = build()
        if len(self.pages) > MAX_ENTRIES:
            self.pages.clear()
        self.pages[key] = (time.monotonic(), value)
        return value

    def clear(self):
        self.pages.clear()


class _SharedPages:
    """The pages every process rendered, in Redis: the generation and the page are read in
    one round trip (MGET), and the page is stored under the generation read before it was
    rendered, so a change committed meanwhile makes it stale at once."""

    def __init__(self, url: str, namespace: str):
        self.redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.namespace = namespace
        self.generation_key = f"{namespace}:generation"

    def get(self, key, build):
        entry_key = f"{self.namespace}:{json.dumps(key, ensure_ascii=False)}"
        try:
            generation, raw = self.redis.mget(self.generation_key, entry_key)
        except RedisError as e:
            log.warning("public page cache unavailable, page rendered uncached: %s", e)
            return build()
        generation = int(generation or 0)
        if raw is not None:
            entry = json.loads(raw)
            if entry["generation"] == generation:
                return entry["value"]
        value = build()
        try:
            self.redis.set(entry_key, json.dumps({"generation": generation, "value": value}, ensure_ascii=False),
                           ex=SECONDS)
        except RedisError as e:
            log.warning("public page cache unavailable, page not kept: %s", e)
        return value

    def clear(self):
        try:
            self.redis.incr(self.generation_key)
        except RedisError as e:
            log.warning("public page cache unavailable: other processes may show a changed page for a minute: %s", e)


def _pages():
    """One store per app and Redis URL (each test's app, with its own database, has its
    own); in Redis, a namespace per database, so deployments sharing a Redis stay apart."""
    url = current_app.config.get("REDIS_URL")
    stores = current_app.extensions.setdefault("wuye_public_pages", {})
    if url not in stores:
        database = hashlib.sha256(str(current_app.config["SQLALCHEMY_DATABASE_URI"]).encode()).hexdigest()[:12]
        stores[url] = _SharedPages(url, f"wuye:public:{database}") if url else _ProcessPages()
    return stores[url]


def get(key: tuple, build):
    """The cached rendering for `key`, or `build()`'s (kept for SECONDS). What `build`
    returns must survive JSON (strings, numbers, lists, None): the page is stored as text."""
    return _pages().get(key, build)


def clear() -> None:
    _pages().clear()


@event.listens_for(Session, "after_flush")
def _note_changes(session, _context) -> None:
    if any(type(o).__name__ in SHOWN for o in (*session.new, *session.dirty, *session.deleted)):
        session.info["public_pages_stale"] = True


@event.listens_for(Session, "after_commit")
def _drop_on_commit(session) -> None:
    if session.info.pop("public_pages_stale", False) and has_app_context():
        clear()  # (a change rolled back leaves the flag for the next commit: one needless clear)
