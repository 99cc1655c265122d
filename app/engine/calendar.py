"""The working-day calendar behind deadlines: statutory holidays and adjusted working
days (调休) from the calendar tables, seeded from the chinesecalendar package and extended
by an administrator when the State Council publishes the next year.

The engine's clock is here too (`now()`), so tests and deadline maths share one source.
"""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from app.extensions import db
from app.models import CalendarDay, CalendarYear
from app.workdays import WorkCalendar, default_calendar, seed_from_chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the city's time: dates shown, working days, quarters
_clock_override: datetime | None = None


def now() -> datetime:
    """The current time (UTC, aware). Tests may pin it with `set_clock`."""
    return _clock_override or datetime.now(timezone.utc)


def set_clock(value: datetime | None) -> None:
    global _clock_override
    _clock_override = value


class _EngineDatetime(datetime):
    """SpiffWorkflow's timers ask `datetime.now()`; this makes them ask the engine clock,
    so a timer and the deadline shown in the inbox always agree (and tests can travel)."""

    @classmethod
    def now(cls, tz=None):
        current = now()
        return current.astimezone(tz) if tz else current.astimezone().replace(tzinfo=None)


def install_engine_clock() -> None:
    import SpiffWorkflow.bpmn.specs.event_definitions.timer as spiff_timer
    spiff_timer.datetime = _EngineDatetime


_cache: dict = {}
CACHE_SECONDS = 60  # another process's holiday edit is seen within a minute


def current_calendar() -> WorkCalendar:
    """The calendar from the tables (cached per process for a minute, and dropped at once
    when this process edits it), or the package's own data while the tables are empty."""
    import time
    key = db.engine.url.render_as_string()
    cached = _cache.get(key)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    days = db.session.execute(db.select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.name)).all()
    years = set(db.session.scalars(db.select(CalendarYear.year)))
    calendar = WorkCalendar({d: (w, n) for d, w, n in days}, years) if years else default_calendar()
    _cache[key] = (time.monotonic(), calendar)
    return calendar


def forget_calendar() -> None:
    _cache.clear()


def seed() -> int:
    """Fill the tables from the package (idempotent); returns the number of days added."""
    data = seed_from_chinese_calendar()
    overrides, years = data["overrides"], data["covered_years"]
    existing = set(db.session.scalars(db.select(CalendarDay.day)))
    added = 0
    for day, (is_workday, name) in sorted(overrides.items()):
        if day not in existing:
            db.session.add(CalendarDay(day=day, is_workday=is_workday, name=name or ""))
            added += 1
    known = set(db.session.scalars(db.select(CalendarYear.year)))
    for year in sorted(set(years) - known):
        db.session.add(CalendarYear(year=year, source="chinesecalendar"))
    db.session.commit()
    forget_calendar()
    return added


def set_day(day: date, is_workday: bool, name: str, actor=None) -> None:
    from app.services import audit
    row = db.session.get(CalendarDay, day)
    before = {"is_workday": row.is_workday, "name": row.name} if row else None
    if row is None:
        row = CalendarDay(day=day, is_workday=is_workday, name=name)
        db.session.add(row)
    row.is_workday, row.name = is_workday, name
    audit.record("calendar.set_day", target_type="CalendarDay", target_id=day.isoformat(), before=before,
                 after={"is_workday": is_workday, "name": name}, actor=actor)
    db.session.commit()
    forget_calendar()


def mark_year_complete(year: int, actor=None) -> None:
    from app.services import audit
    if db.session.get(CalendarYear, year) is None:
        db.session.add(CalendarYear(year=year, source="admin"))
    audit.record("calendar.year_complete", target_type="CalendarYear", target_id=str(year), actor=actor)
    db.session.commit()
    forget_calendar()


def script_helpers() -> dict:
    """Functions BPMN scripts, conditions and timers may call."""
    from app.engine.timers import working_days_deadline

    def working_days(n):
        return working_days_deadline(int(n), now(), current_calendar()).isoformat()

    return {"working_days": working_days, "now": lambda: now().isoformat(),
            "today": lambda: now().astimezone(SHANGHAI).date().isoformat()}  # the city's date


def deadline_warning(when: datetime | None) -> str:
    """A visible warning when a deadline falls in a year without official holiday data."""
    if when is None:
        return ""
    year = when.astimezone(ZoneInfo("Asia/Shanghai")).year
    if year in current_calendar().covered_years:
        return ""
    from flask_babel import gettext as _
    return _("%(year)d 年节假日尚未公布，期限按周一至周五估算", year=year)
