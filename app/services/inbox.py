"""The task inbox: which tasks a user sees in each tab, filtered, sorted and paged.
Reads only the HumanTask projection (never deserializes a workflow)."""
import time as clock
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request
from markupsafe import Markup, escape

from app.engine.calendar import current_calendar, now
from app.extensions import db
from app.models import Community, Enterprise, HumanTask, ProcessInstance, StreetOffice
from app.permissions import actionable_tasks, may_supervise, scoped

TABS = ("todo", "mine", "done", "all")
SORTS = {"created": HumanTask.created_at, "due": HumanTask.due_at, "title": HumanTask.title, "name": HumanTask.name}


@dataclass
class Filters:
    tab: str = "todo"
    process: str = ""
    task: str = ""
    community_id: int | None = None
    enterprise_id: int | None = None
    street_office_id: int | None = None
    due: str = ""  # overdue | today | week
    q: str = ""
    sort: str = "created"
    desc: bool = False

    @classmethod
    def from_args(cls, args) -> "Filters":
        def as_int(name):
            value = args.get(name, "")
            return int(value) if value.isdigit() else None

        tab = args.get("tab", "todo")
        return cls(tab=tab if tab in TABS else "todo", process=args.get("process", ""), task=args.get("task", ""),
                   community_id=as_int("community_id"), enterprise_id=as_int("enterprise_id"),
                   street_office_id=as_int("street_office_id"), due=args.get("due", ""),
                   q=(args.get("q") or "").strip()[:100], sort=args.get("sort") if args.get("sort") in SORTS else "created",
                   desc=args.get("desc") == "1")


def _zone():
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def due_soon_limit() -> datetime:
    """End of the next working day (local time): tasks due before it are 'due soon'."""
    today = now().astimezone(_zone()).date()
    next_day = current_calendar().add_working_days(today, 1).date
    return datetime.combine(next_day, time.max, _zone())


def due_state(task: HumanTask) -> str:
    """overdue | soon | '' — shown as badges in the inbox."""
    if task.due_at is None or task.status != "open":
        return ""
    if task.due_at < now():
        return "overdue"
    if task.due_at <= due_soon_limit():
        return "soon"
    return ""


def tab_query(user, tab: str):
    base = db.select(HumanTask)
    if tab == "todo":
        return actionable_tasks(user, base).where(HumanTask.status == "open", HumanTask.claimed_by_id.is_(None))
    if tab == "mine":
        return base.where(HumanTask.status == "open", HumanTask.claimed_by_id == user.id)
    if tab == "done":
        return base.where(HumanTask.status == "completed",
                          (HumanTask.completed_by_id == user.id) | (HumanTask.completed_for_id == user.id))
    if tab == "all" and may_supervise(user):
        return base.where(HumanTask.status == "open")
    return base.where(db.false())


def search(user, f: Filters):
    query = tab_query(user, f.tab)
    if f.process:
        query = query.where(HumanTask.model_key == f.process)
    if f.task:
        query = query.where(HumanTask.name == f.task)
    for column in ("community_id", "enterprise_id", "street_office_id"):
        if getattr(f, column):
            query = query.where(getattr(HumanTask, column) == getattr(f, column))
    if f.due == "overdue":
        query = query.where(HumanTask.due_at < now())
    elif f.due == "today":
        query = query.where(HumanTask.due_at <= due_soon_limit())
    elif f.due == "week":
        query = query.where(HumanTask.due_at <= now() + timedelta(days=7))
    if f.q:
        like = f"%{f.q}%"
        query = query.where(HumanTask.title.like(like) | HumanTask.name.like(like))
    column = SORTS[f.sort]
    order = column.desc() if f.desc else column.asc()
    if f.sort == "due":
        order = column.is_(None), order  # tasks without a due date last
        return query.order_by(*order, HumanTask.id)
    return query.order_by(order, HumanTask.id)


def count_of(user, tab: str) -> int:
    """Tasks in a tab, counted once per request (the nav badge and the inbox tabs both ask)."""
    # kept on the request itself: an app context (and its `g`) can outlive one request
    memo = request.environ.setdefault("wuye.inbox_counts", {}) if has_request_context() else {}
    key = (user.id, tab)
    if key not in memo:
        memo[key] = db.session.scalar(db.select(db.func.count()).select_from(
            tab_query(user, tab).with_only_columns(HumanTask.id).subquery()))
    return memo[key]


def counts(user) -> dict[str, int]:
    return {tab: count_of(user, tab) for tab in TABS if tab != "all" or may_supervise(user)}


def _distinct(column: str, limit: int) -> list[str]:
    """Distinct values of an indexed human_task column by a loose index scan (one index probe
    per value): DISTINCT would read the whole table, millions of rows at province scale."""
    assert column in ("model_key", "name")  # never user input
    sql = (f"WITH RECURSIVE v(x) AS (SELECT min({column}) FROM human_task UNION ALL "
           f"SELECT (SELECT min({column}) FROM human_task WHERE {column} > v.x) FROM v WHERE v.x IS NOT NULL) "
           f"SELECT x FROM v WHERE x IS NOT NULL LIMIT :limit")
    return list(db.session.scalars(db.text(sql), {"limit": limit}))


def _process_and_task_names() -> tuple[list[str], list[str]]:
    """Process keys and task names found in the inbox table, for the filter bar."""
    return _distinct("model_key", 1000), _distinct("name", 200)


def filter_choices(user) -> dict:
    """Options for the filter bar: processes and task names, and the organisations the
    user may see."""
    processes, tasks = _process_and_task_names()
    return {
        "processes": processes,
        "tasks": tasks,
        "street_offices": db.session.execute(db.select(StreetOffice.id, StreetOffice.name)
                                             .order_by(StreetOffice.name)).all(),
        # (id, name) rows, not ORM objects: a supervisor's choices are 1 000 rows on every inbox page
        "enterprises": db.session.execute(scoped(Enterprise, user).with_only_columns(Enterprise.id, Enterprise.name)
                                          .order_by(Enterprise.name).limit(500)).all(),
        "communities": db.session.execute(scoped(Community, user).with_only_columns(Community.id, Community.name)
                                          .order_by(Community.name).limit(500)).all(),
    }


OPTIONS_SECONDS = 60  # a new enterprise or community shows in the filter bar within a minute
OPTIONS_MAX_USERS = 1000


def filter_options(user, f: Filters) -> dict[str, Markup]:
    """The filter bar's <option>s, the current filter's selected. Rendered once a minute per
    user and kept in this process: a supervisor's are some 3 000 at province scale, and
    rendering them was most of an inbox page's time."""
    cache = current_app.extensions.setdefault("wuye_inbox_options", {})
    hit = cache.get(user.id)
    if hit is None or clock.monotonic() - hit[0] >= OPTIONS_SECONDS:
        choices = filter_choices(user)
        rendered = {"process": _options((p, p) for p in choices["processes"]),
                    "task": _options((n, n) for n in choices["tasks"]),
                    "enterprise_id": _options(choices["enterprises"]),
                    "community_id": _options(choices["communities"]),
                    "street_office_id": _options(choices["street_offices"])}
        if len(cache) >= OPTIONS_MAX_USERS:
            cache.clear()
        cache[user.id] = hit = (clock.monotonic(), rendered)
    return {name: _selected(html, getattr(f, name))
            for name, html in hit[1].items()}


def _options(pairs) -> str:
    return "".join(f'<option value="{escape(value)}">{escape(label)}</option>' for value, label in pairs)


def _selected(html: str, value) -> Markup:
    if value in (None, ""):
        return Markup(html)
    tag = f'<option value="{escape(value)}">'
    return Markup(html.replace(tag, f'<option value="{escape(value)}" selected>', 1))


def instance_started_at(task: HumanTask):
    return db.session.scalar(db.select(ProcessInstance.started_at).where(ProcessInstance.id == task.instance_id))
