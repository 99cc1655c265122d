"""Notification jobs."""
from app.services import notify


def daily_digest() -> int:
    return notify.daily_digest()


def overdue_tasks() -> int:
    return notify.overdue_tasks()
