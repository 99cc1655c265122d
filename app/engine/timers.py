"""Timer expressions in Wuye's BPMN, and deadlines in working days.

A timer's text is a Python expression evaluated by the sandboxed script engine
(SpiffWorkflow 3.x): a quoted ISO-8601 value, e.g. `"PT24H"` in a timeDuration or
`"2026-12-31T18:00:00+08:00"` in a timeDate, or a working-day deadline written
`working_days(5)` (or `working_days(review_days)`) in a **timeDate**: it evaluates to the
ISO datetime of the same wall-clock time (Asia/Shanghai) on the 5th working day after now,
adjusted working days (调休) included. The deadline is fixed when the timer starts waiting.
"""
import ast
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.workdays import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


class TimerExpressionError(ValueError):
    pass


@dataclass(frozen=True)
class TimerSpec:
    kind: str  # duration | date | working_days | expression
    value: object = None


def parse_timer(expr: str) -> TimerSpec:
    """What a timer expression means, for the deploy-time linter; refuses malformed ISO values."""
    try:
        node = ast.parse((expr or "").strip(), mode="eval").body
    except SyntaxError as e:
        raise TimerExpressionError(f"语法错误 (syntax error): {e.msg}")
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value.strip()
        if text.startswith("P"):
            try:
                return TimerSpec("duration", TimerEventDefinition.parse_iso_duration(text))
            except Exception:
                raise TimerExpressionError(f"不是有效的 ISO-8601 时长 (not an ISO-8601 duration): {text}")
        try:
            return TimerSpec("date", datetime.fromisoformat(text))
        except ValueError:
            raise TimerExpressionError(f"不是有效的 ISO-8601 时长或时间 (not an ISO-8601 duration or date): {text}")
    if isinstance(node, ast.Constant):
        raise TimerExpressionError("定时器须为带引号的 ISO-8601 文本或 working_days(n) (quote ISO values)")
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "working_days":
        if len(node.args) != 1 or node.keywords:
            raise TimerExpressionError("working_days 只接受一个参数 (working_days takes one argument)")
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and (not isinstance(arg.value, int) or arg.value < 0):
            raise TimerExpressionError("working_days 的参数须为非负整数 (a non-negative whole number)")
        return TimerSpec("working_days", arg.value if isinstance(arg, ast.Constant) else None)
    return TimerSpec("expression")  # a data variable holding an ISO value: checked when it runs


def working_days_deadline(n: int, now: datetime, calendar: WorkCalendar) -> datetime:
    """The same Asia/Shanghai wall-clock time on the n-th working day after `now`."""
    local = now.astimezone(SHANGHAI)
    day = calendar.add_working_days(local.date(), n).date
    return datetime.combine(day, local.timetz().replace(tzinfo=None), SHANGHAI)
