"""Notification jobs."""
from app.services import notify


def deliver() -> int:
    return notify.deliver_pending()


def daily_digest() -> int:
    return notify.daily_digest()


def overdue_tasks() -> int:
    return notify.overdue_tasks()
