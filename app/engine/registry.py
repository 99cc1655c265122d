"""What BPMN may name: operators (service tasks), messages (catch events), forms (user task
form keys) and assigners (a user task's `assignee` property). The deploy-time linter checks
every name against this registry.

Domain modules register their operators and messages here with the decorators below;
app/operators.py imports them all, so the registry is complete once the app is created.
"""
import importlib
import inspect
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class OperatorContext:
    """What an operator may know of the case that calls it."""

    instance_id: int
    business_key: str
    subject_type: str
    subject_id: int | None
    call_key: str  # unique per call: the idempotency key for the outside world


@dataclass
class Operator:
    name: str
    func: Callable
    label: str
    params: dict = field(default_factory=dict)  # name -> description
    external: bool = False  # True: calls the outside world, runs as a worker job with retries
    max_attempts: int = 3


OPERATORS: dict[str, Operator] = {}
MESSAGES: dict[str, str] = {}
ASSIGNERS: dict[str, tuple[Callable, str]] = {}  # name → (func(instance) -> user id | None, label)


def operator(name: str, label: str, *, params: dict | None = None, external: bool = False, max_attempts: int = 3):
    """Register `func(ctx: OperatorContext, **params) -> dict | None` as a service task operator."""

    def decorator(func):
        declared = params if params is not None else {
            p: p for p in list(inspect.signature(func).parameters)[1:]}
        OPERATORS[name] = Operator(name, func, label, declared, external, max_attempts)
        return func

    return decorator


def get_operator(name: str) -> Operator | None:
    return OPERATORS.get(name)


def message(name: str, label: str) -> None:
    """Declare a message name that catch events may wait for."""
    MESSAGES[name] = label


def assigner(name: str, label: str):
    """Register `func(instance) -> user id | None`: a user task whose `assignee` property
    names it opens already claimed by that user (e.g. a street office's head), so it is in
    that user's inbox only; None leaves it to everyone in the lane."""

    def decorator(func):
        ASSIGNERS[name] = (func, label)
        return func

    return decorator


def resolve_form(form_key: str):
    """'filing.FilingForm' → forms.filing.FilingForm, or None if there is no such form."""
    from forms import BaseForm
    module_name, _, class_name = (form_key or "").rpartition(".")
    if not module_name or not class_name.isidentifier():
        return None
    try:
        module = importlib.import_module(f"forms.{module_name}")
    except ImportError:
        return None
    form = getattr(module, class_name, None)
    return form if isinstance(form, type) and issubclass(form, BaseForm) else None
