"""The task inbox: which tasks a user sees in each tab, filtered, sorted and paged.
Reads only the HumanTask projection (never deserializes a workflow); the case's start
time comes from its instance row, loaded for the shown page only."""
import time as clock
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy.orm import joinedload

from app.engine.calendar import current_calendar, now
from app.extensions import db, request_memo
from app.models import Community, Enterprise, HumanTask, ProcessInstance, StreetOffice
from app.permissions import actionable_tasks, may_supervise, scoped
from app.services.errors import Forbidden, ValidationFailed

TABS = ("todo", "mine", "done", "all")  # the inbox page's tabs
API_TABS = ("open", "mine", "done", "all")  # open: every open task of my roles, claimed or not
SORTS = {"created": HumanTask.created_at, "started": ProcessInstance.started_at, "due": HumanTask.due_at,
         "title": HumanTask.title, "name": HumanTask.name}
DUES = ("overdue", "today", "week")
CLAIMED = ("me", "none")


def parse_local_time(value: str, *, end_of_day=False) -> datetime:
    """An ISO date or datetime from a user; without an offset it is local (Asia/Shanghai) time.
    A plain date means its start, or with end_of_day its last moment. ValueError if garbage."""
    value = (value or "").strip()
    if len(value) == 10:
        day = date.fromisoformat(value)
        return datetime.combine(day, time.max if end_of_day else time.min, _zone())
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=_zone())


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
    role: str = ""
    claimed: str = ""  # me | none
    due_before: datetime | None = None

    @classmethod
    def from_args(cls, args, *, strict=False, tabs=TABS) -> "Filters":
        """The inbox page ignores what it does not understand (a stale bookmark still opens);
        strict (the API) refuses it with field errors instead."""
        errors = {}

        def pick(name, allowed, default=""):
            value = args.get(name, "")
            if value in allowed:
                return value
            if value and strict:
                errors[name] = _("可选值：%(values)s。", values="、".join(allowed))
            return default

        def as_int(name):
            value = args.get(name, "")
            if value.isdigit() and 0 < int(value) < 2**31:
                return int(value)
            if value and strict:
                errors[name] = _("须为正整数。")
            return None

        due_before = None
        if args.get("due_before"):
            try:
                due_before = parse_local_time(args["due_before"], end_of_day=True)
            except ValueError:
                if strict:
                    errors["due_before"] = _("请使用 ISO 日期或时间，如 2026-12-31 或 2026-12-31T18:00。")
        desc = args.get("desc", "")
        if strict and desc not in ("", "0", "1", "true", "false"):
            errors["desc"] = _("可选值：%(values)s。", values="1、0")
        filters = cls(tab=pick("tab", tabs, tabs[0]), process=args.get("process", "").strip(),
                      task=args.get("task", "").strip(), community_id=as_int("community_id"),
                      enterprise_id=as_int("enterprise_id"), street_office_id=as_int("street_office_id"),
                      due=pick("due", DUES), q=(args.get("q") or args.get("text") or "").strip()[:100],
                      sort=pick("sort", tuple(SORTS), "created"), desc=desc in ("1", "true"),
                      role=args.get("role", "").strip(), claimed=pick("claimed", CLAIMED), due_before=due_before)
        if errors:
            raise ValidationFailed(_("查询条件有误。"), errors)
        return filters


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
    if tab == "open":
        return actionable_tasks(user, base).where(HumanTask.status == "open")
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


def require_tab(user, tab: str) -> None:
    """The API says no where the page shows an empty tab: 全部 is for supervisors."""
    if tab == "all" and not may_supervise(user):
        raise Forbidden(_("只有主管可以查看全部任务。"))


def search(user, f: Filters):
    query = tab_query(user, f.tab)
    if f.role:
        query = query.where(HumanTask.role == f.role)
    if f.claimed == "me":
        query = query.where(HumanTask.claimed_by_id == user.id)
    elif f.claimed == "none":
        query = query.where(HumanTask.claimed_by_id.is_(None))
    if f.due_before:
        query = query.where(HumanTask.due_at <= f.due_before)
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
    # the case's start time, shown on every row, in the same statement (a join on the case's
    # key for the rows shown; a count of the search leaves it out)
    query = query.options(joinedload(HumanTask.instance, innerjoin=True).load_only(ProcessInstance.started_at))
    if f.sort == "started":
        query = query.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    column = SORTS[f.sort]
    order = column.desc() if f.desc else column.asc()
    if f.sort == "due":
        order = column.is_(None), order  # tasks without a due date last
        return query.order_by(*order, HumanTask.id)
    return query.order_by(order, HumanTask.id)


def count_of(user, tab: str) -> int:
    """Tasks in a tab, counted once per request (the nav badge and the inbox tabs both ask)."""
    return _counted(user, (tab,))[tab]


def counts(user) -> dict[str, int]:
    """Every tab's count, in one statement (one index-only count per tab)."""
    return _counted(user, tuple(tab for tab in TABS if tab != "all" or may_supervise(user)))


def _counted(user, tabs: tuple) -> dict[str, int]:
    memo = request_memo("inbox_counts")
    missing = [tab for tab in tabs if (user.id, tab) not in memo]
    if missing:
        row = db.session.execute(db.select(*(
            db.select(db.func.count()).select_from(tab_query(user, tab).with_only_columns(HumanTask.id).subquery())
            .scalar_subquery().label(tab) for tab in missing))).one()
        memo.update({(user.id, tab): n for tab, n in zip(missing, row)})
    return {tab: memo[(user.id, tab)] for tab in tabs}


def total(user, f: Filters) -> int:
    """The number of tasks a search finds: for a tab without filters, the tab's count that
    the page shows anyway (asked once, not twice)."""
    if f == Filters(tab=f.tab, sort=f.sort, desc=f.desc):
        return count_of(user, f.tab)
    ids = search(user, f).order_by(None).with_only_columns(HumanTask.id)
    return db.session.scalar(db.select(db.func.count()).select_from(ids.subquery()))


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
