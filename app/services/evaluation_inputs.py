"""What feeds the annual evaluation besides the departments' scoring tasks: daily-inspection
deductions, owner satisfaction, … Each feeder registers a function here and the evaluation
asks all of them, so the feeders and the evaluation do not import each other.

A feeder is `fn(enterprise_id, community_id, year) -> list[EvaluationInput]`; it reads only
(it runs inside the evaluation's transaction) and returns one line per point that moves the
total, each traced to its source so the breakdown can show where every point came from."""
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

FEEDERS: dict[str, Callable] = {}


@dataclass(frozen=True)
class EvaluationInput:
    item_code: str  # the scoring-standard item the points belong to
    points: Decimal  # negative for a deduction, positive for a bonus
    source: str  # "inspection", "survey", …
    source_id: int | None  # the finding or survey the points come from
    title: str  # what a reader of the breakdown sees


def feeder(name: str):
    def register(fn):
        FEEDERS[name] = fn
        return fn
    return register


def collect(enterprise_id: int, community_id: int, year: int) -> list[EvaluationInput]:
    return [line for name in sorted(FEEDERS) for line in FEEDERS[name](enterprise_id, community_id, year)]
