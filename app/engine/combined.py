"""One case's writes in one statement on PostgreSQL.

A completion writes five things: the completed task's row, the case's versioned row, its
timeline, the new inbox rows and their users' notifications. As statements of their own
they cost a completion five round trips and five passes through SQLAlchemy and psycopg, about
a third of it (docs/performance.md). PostgreSQL runs data-modifying common table expressions
(`WITH … AS (UPDATE …)`) as parts of one statement, all or nothing: here the case's UPDATE is
the statement and the others its CTEs; the notifications take their task ids from the
inbox INSERT's RETURNING, and their users from the same query the inbox's rule makes
(`notify.recipients`), in the same statement. The statement is built once per shape (which
columns changed, how many rows of each) and run with parameters: building it costs more than
running it.

SQLite has no data-modifying CTEs; there the same rows are written one statement each
(`runtime._written_together`).
"""
from functools import cache

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import HumanTask, InstanceEvent, Notification, ProcessInstance
from app.models.base import UTCDateTime


@cache
def statement(instance_keys: tuple[str, ...], done_keys: tuple[str, ...], event_keys: tuple[str, ...], events: int,
              task_keys: tuple[str, ...], tasks: int, told: tuple[str | None, ...], languages: tuple[str, ...]):
    """The case's versioned UPDATE (returning its id: no row, the case changed meanwhile),
    with, as CTEs, the completed task's UPDATE (`done_keys`, none: no task), the INSERTs of
    `events` timeline rows, of `tasks` new inbox rows and of their notifications, one to each
    of their users: `told` holds, for each task, the scope of `notify.recipients` (None: it
    tells nobody), each told in their language: `languages` are the app's, the default first.
    Parameters: the case's `_id`, `_lock` and columns; `done_id` and `done_<key>`;
    `e<i>_<key>`; `t<i>_<key>`; `n<i>_role`, `n<i>_org`, `n<i>_title_<locale>` for each
    language, `n<i>_body` for task i; `_now`. The notifications' kind and the languages'
    codes are written into the statement, not passed: psycopg keeps the parsing of a
    statement of at most 50 parameters and parses a longer one again at every run (two
    parameters past 50 cost a completion 3–8 % CPU, docs/performance.md)."""
    from app.services.notify import NEW_TASK, recipients
    case, task, event, notification = (ProcessInstance.__table__, HumanTask.__table__,
                                       InstanceEvent.__table__, Notification.__table__)
    text = notification.c.title.type
    ctes = []
    if done_keys:
        ctes.append(task.update().where(task.c.id == sa.bindparam("done_id"))
                    .values({key: sa.bindparam(f"done_{key}") for key in done_keys}).cte("done_task"))
    if events:
        ctes.append(_insert(event, event_keys, "e", events).cte("timeline"))
    if tasks:
        new = _insert(task, task_keys, "t", tasks).returning(task.c.id, task.c.task_uuid, task.c.instance_id).cte("new_tasks")
        ctes.append(new)
        selects = []
        for i, scope in enumerate(told):
            if scope is None:
                continue
            users = recipients(scope, f"n{i}_").subquery(f"users{i}")
            title = sa.case(*((users.c.locale == _sql_text(locale), sa.bindparam(f"n{i}_title_{locale}", type_=text))
                              for locale in languages[1:]),
                            else_=sa.bindparam(f"n{i}_title_{languages[0]}", type_=text))
            selects.append(
                sa.select(users.c.id, _sql_text(NEW_TASK), title,
                          sa.bindparam(f"n{i}_body", type_=notification.c.body.type),
                          sa.func.json_build_object("task_id", new.c.id, "instance_id", new.c.instance_id),
                          sa.bindparam("_now", type_=notification.c.created_at.type))
                .select_from(new).join(users, sa.true())
                .where(new.c.task_uuid == sa.bindparam(f"t{i}_task_uuid", type_=task.c.task_uuid.type)))
        if selects:
            ctes.append(notification.insert().from_select(
                ["user_id", "kind", "title", "body", "data", "created_at"],
                sa.union_all(*selects) if len(selects) > 1 else selects[0], include_defaults=False).cte("notices"))
    return (case.update()
            .where(case.c.id == sa.bindparam("_id"), case.c.lock_version == sa.bindparam("_lock"))
            .values({**{key: sa.bindparam(key) for key in instance_keys}, "lock_version": case.c.lock_version + 1})
            .returning(case.c.id)
            .add_cte(*ctes))


def _sql_text(value: str):
    """A code of the app's (a kind, a language) as a string in the SQL, not a parameter."""
    if not value.replace("_", "").isalnum():
        raise ValueError(f"not a code: {value!r}")
    return sa.literal_column(f"'{value}'", type_=sa.String)


def _insert(table: sa.Table, keys: tuple[str, ...], prefix: str, rows: int) -> sa.Insert:
    """INSERT of `rows` rows of these columns, parameters `<prefix><i>_<key>`, as INSERT …
    SELECT … UNION ALL SELECT …: a multi-row VALUES is a statement SQLAlchemy cannot cache,
    and one CTE a row would leave the order of their ids (the timeline's order) to chance."""
    if missing := [c.key for c in table.c if c.default is not None and not c.primary_key and c.key not in keys]:
        raise ValueError(f"{table.name} rows without {', '.join(missing)}: INSERT … SELECT applies no Python-side "
                         f"default, give the value where app/engine/runtime.py makes the rows")
    selects = [sa.select(*(sa.bindparam(f"{prefix}{i}_{key}", type_=table.c[key].type) for key in keys))
               for i in range(rows)]
    return table.insert().from_select(list(keys), sa.union_all(*selects) if rows > 1 else selects[0],
                                      include_defaults=False)


def _languages() -> tuple[str, ...]:
    """The app's languages, the default first."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    return (default, *(locale for locale in current_app.config["LANGUAGES"] if locale != default))


def write(instance_id: int, lock_version: int, changed: dict, done: tuple[int, dict] | None, events: list[dict],
          tasks: list[dict], notices: list[dict | None], now) -> bool:
    """Run the statement; False when the case's lock version moved (nothing was written).
    `notices` are the tasks' notifications (`notify.new_task_notices`: whom and what; the
    statement gives each its task's id and the case's)."""
    params = {"_id": instance_id, "_lock": lock_version, "_now": now, **changed}
    if done:
        params["done_id"] = done[0]
        params.update({f"done_{key}": value for key, value in done[1].items()})
    for i, row in enumerate(events):
        params.update({f"e{i}_{key}": value for key, value in row.items()})
    for i, row in enumerate(tasks):
        params.update({f"t{i}_{key}": value for key, value in row.items()})
    languages = _languages()
    for i, notice in enumerate(notices):
        if notice is not None:
            params.update({f"n{i}_{key}": notice[key] for key in ("role", "org", "body")})
            params.update({f"n{i}_title_{locale}": notice["title"][locale] for locale in languages})
    query = statement(tuple(changed), tuple(done[1]) if done else (), tuple(events[0]) if events else (),
                      len(events), tuple(tasks[0]) if tasks else (), len(tasks),
                      tuple(notice and notice["scope"] for notice in notices), languages)
    with db.session.no_autoflush:  # the case's other rows are written by the flush after it
        return db.session.execute(query, params).first() is not None
