"""Running one request of the permissions matrix and telling allowed from denied.

Denied is 401, 403, 404, or a redirect to the login page; allowed is any other answer. A
denied request must also change nothing: every INSERT, UPDATE or DELETE the request sends
to the database is caught on the engine while it runs."""
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event

from app.extensions import db

WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE")


@dataclass
class Outcome:
    status: int
    location: str = ""
    writes: list = field(default_factory=list)

    @property
    def denied(self) -> bool:
        if self.status in (401, 403, 404):
            return True
        return self.status in (301, 302, 303) and self.location.split("?")[0].endswith("/login") and "next=" in \
            self.location


@contextmanager
def watching_writes():
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(WRITES):
            seen.append(statement.split("\n")[0][:120])

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def methods_of(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def probe(client, method: str, url: str, *, api_headers: dict | None = None, form: dict | None = None) -> Outcome:
    """One request: an API call with `api_headers` (a JSON body), else a page (a form body)."""
    with watching_writes() as writes:
        if api_headers is not None:
            response = client.open(url, method=method, headers=api_headers,
                                   **({"json": form or {}} if method != "GET" else {}))
        else:
            response = client.open(url, method=method, **({"data": dict(form or {})} if method != "GET" else {}))
    return Outcome(response.status_code, response.headers.get("Location", ""), list(writes))
