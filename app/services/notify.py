"""Notifications: stored for the dashboard, and handed to a pluggable notifier (email,
SMS, …). The default notifier only logs; set NOTIFIER to a dotted class path to change it."""
import logging
from datetime import timedelta

from flask import current_app

from app.engine.calendar import now
from app.extensions import db
from app.jobs import resolve
from app.models import HumanTask, Notification, User
from app.permissions import actionable_tasks
from app.validators import mask

log = logging.getLogger("wuye.notify")


class LogNotifier:
    """Writes each notification to the log. Replace with an email/SMS gateway in production:
    a notifier class has `send(user, title, body)` (a user of the system) and
    `send_to(channel, address, title, body)` (anyone, e.g. an owner's phone: channel 'sms'
    or 'email')."""

    def send(self, user: User, title: str, body: str) -> None:
        log.info("notify %s: %s\n%s", user.username, title, body)

    def send_to(self, channel: str, address: str, title: str, body: str) -> None:
        log.info("notify %s:%s: %s\n%s", channel, mask(address, 3, 2), title, body)


def notifier():
    return resolve(current_app.config.get("NOTIFIER", "app.services.notify.LogNotifier"))()


def notify(user: User, kind: str, title: str, body: str = "", data=None) -> Notification:
    row = Notification(user_id=user.id, kind=kind, title=title, body=body, data=data)
    db.session.add(row)
    db.session.flush()
    notifier().send(user, title, body)
    return row


def overdue_for(user: User) -> list[HumanTask]:
    """Open tasks past their due time that the user claimed or may act on."""
    moment = now()
    claimed = db.select(HumanTask).where(HumanTask.status == "open", HumanTask.claimed_by_id == user.id,
                                         HumanTask.due_at < moment)
    mine = actionable_tasks(user).where(HumanTask.status == "open", HumanTask.claimed_by_id.is_(None),
                                        HumanTask.due_at < moment)
    rows = {t.id: t for t in db.session.scalars(claimed)} | {t.id: t for t in db.session.scalars(mine)}
    return sorted(rows.values(), key=lambda t: t.due_at)


def daily_digest() -> int:
    """Prepare each user's overdue list once a day (skipped when there is nothing overdue,
    and when today's digest exists already, so running it twice is harmless)."""
    sent = 0
    since = now() - timedelta(hours=20)
    for user in db.session.scalars(db.select(User).where(User.active.is_(True))).all():
        if db.session.scalar(db.select(Notification.id).where(Notification.user_id == user.id,
                                                              Notification.kind == "digest",
                                                              Notification.created_at >= since)):
            continue
        tasks = overdue_for(user)
        if not tasks:
            continue
        lines = [f"- {t.title} · {t.name}" for t in tasks[:50]]
        notify(user, "digest", f"您有 {len(tasks)} 项超期任务", "\n".join(lines), data={"task_ids": [t.id for t in tasks]})
        sent += 1
    db.session.commit()
    return sent


def notify_enterprise(enterprise_id: int, kind: str, title: str, body: str = "") -> None:
    """Tell every active user of an enterprise."""
    for user in db.session.scalars(db.select(User).where(User.enterprise_id == enterprise_id, User.active.is_(True))):
        notify(user, kind, title, body)
