"""Chinese statutory working days: holidays and adjusted working days (调休).

A WorkCalendar is built from explicit overrides (date → (is_workday, name)) and the set
of years whose official data is complete. Outside those years it does not crash: it
assumes Monday–Friday and says so in a warning, because the State Council publishes next
year's holidays only in late autumn.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache


@dataclass
class WorkdayResult:
    date: date
    warnings: list[str] = field(default_factory=list)


def _missing_year_warning(year: int) -> str:
    return (f"{year} 年的法定节假日数据尚未发布，已按周一至周五估算 "
            f"(no official holiday data for {year}; weekdays assumed)")


class WorkCalendar:
    def __init__(self, overrides: dict | None = None, covered_years=None):
        self.overrides = dict(overrides or {})
        self.covered_years = set(covered_years or ())

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return bool(self.overrides[day][0])
        return day.weekday() < 5

    def _note(self, day: date, warnings: list[str]) -> None:
        if day.year not in self.covered_years:
            message = _missing_year_warning(day.year)
            if message not in warnings:
                warnings.append(message)

    def add_working_days(self, start: date, n: int) -> WorkdayResult:
        """The n-th working day after `start` (start not counted); n=0 → start itself if
        it is a working day, else the next one; negative n counts backwards."""
        warnings: list[str] = []
        day = start
        self._note(day, warnings)
        if n == 0:
            while not self.is_workday(day):
                day += timedelta(days=1)
                self._note(day, warnings)
            return WorkdayResult(day, warnings)
        step = timedelta(days=1 if n > 0 else -1)
        remaining = abs(n)
        while remaining:
            day += step
            self._note(day, warnings)
            if self.is_workday(day):
                remaining -= 1
        return WorkdayResult(day, warnings)

    def next_workday(self, day: date) -> date:
        return self.add_working_days(day, 1).date

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; negative when b is before a."""
        if b < a:
            return -self.working_days_between(b, a)
        count, day = 0, a
        while day < b:
            day += timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count


CHINESE_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def seed_from_chinese_calendar() -> dict:
    """{'overrides': {date: (is_workday, name)}, 'covered_years': set} from chinesecalendar."""
    from chinese_calendar import constants
    names = CHINESE_NAMES
    overrides = {}
    for day, english in constants.holidays.items():
        overrides[day] = (False, names.get(english, english))
    for day, english in constants.workdays.items():
        overrides[day] = (True, f"{names.get(english, english)}调休上班")
    years = {d.year for d in overrides}
    return {"overrides": overrides, "covered_years": years}


@lru_cache(maxsize=1)
def default_calendar() -> WorkCalendar:
    data = seed_from_chinese_calendar()
    return WorkCalendar(data["overrides"], data["covered_years"])
