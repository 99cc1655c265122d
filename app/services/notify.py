"""Notifications: stored for the dashboard, and handed to a pluggable notifier (email,
SMS, …) once the transaction that stored them has committed (`deliver_pending`, a periodic
job): nobody is told of a task whose transaction rolled back, and a slow gateway holds up no
case. The default notifier only logs; set NOTIFIER to a dotted class path to change it."""
import logging
import time
from datetime import timedelta
from functools import cache, lru_cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import lazyload

from app.engine.calendar import now
from app.extensions import db
from app.i18n import in_every_language, in_language_of
from app.jobs import resolve, run_alone
from app.models import HumanTask, Notification, User
from app.models.base import utcnow
from app.permissions import _TASK_ORG_COLUMN, actionable_tasks
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


def notify(user: User, kind: str, title, body="", data=None) -> Notification:
    """Store a notification for `user`; the notifier gets it after the commit (`deliver_pending`).
    `title` and `body` may be lazy texts (`_l`): they are written in the user's language, not
    in the language of whoever's action told them."""
    with in_language_of(user):
        row = Notification(user_id=user.id, kind=kind, title=str(title), body=str(body), data=data)
    db.session.add(row)  # written with the caller's next flush: one INSERT for all of them
    return row


def deliver_pending(batch: int = 500, seconds: float = 30) -> int:
    """Hand the notifications not yet handed over to the notifier, oldest first, and mark
    them; returns how many (a periodic job, every 10 s). It sees only committed rows. Works
    in batches, each its own transaction, until none is left or `seconds` have passed (a
    digest for every user drains in one run). Safe to run twice at once: a run locks its
    rows and another skips them (SKIP LOCKED on PostgreSQL; SQLite has one writer). When the
    notifier fails (a gateway down), that row and the ones after it wait for the next run,
    in order; the ones handed over stay marked."""
    deadline, delivered = time.monotonic() + seconds, 0
    while True:
        handed, complete = _deliver_batch(batch)
        delivered += handed
        if not complete or time.monotonic() > deadline:
            return delivered


def _deliver_batch(limit: int) -> tuple[int, bool]:
    """(how many were handed over, whether a full batch went through: there may be more)."""
    rows = db.session.execute(
        db.select(Notification, User).join(User, User.id == Notification.user_id)
        .where(Notification.delivered_at.is_(None)).order_by(Notification.id).limit(limit)
        .with_for_update(of=Notification, skip_locked=True)).all()
    sender, moment, delivered = notifier(), utcnow(), 0
    for note, user in rows:
        try:
            if user.active:  # a deactivated account is told of nothing more
                sender.send(user, note.title, note.body)
        except Exception:
            log.exception("the notifier failed on notification %s; the next run tries again", note.id)
            break
        note.delivered_at = moment
        delivered += 1
    db.session.commit()
    return delivered, delivered == limit


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
    """Once a day, each user's overdue tasks and the messages of the last day still unread
    (new tasks, decisions), in one message through the notifier. Skipped when there is
    nothing, and when today's digest exists already, so running it twice is harmless; two
    runs at the same time would both find none, so the second one stops at once."""
    if not run_alone("notify.daily_digest"):
        return 0
    sent = 0
    since = now() - timedelta(hours=20)
    for user in db.session.scalars(db.select(User).where(User.active.is_(True))).all():
        if db.session.scalar(db.select(Notification.id).where(Notification.user_id == user.id,
                                                              Notification.kind == "digest",
                                                              Notification.created_at >= since)):
            continue
        tasks = overdue_for(user)
        unread = db.session.scalars(db.select(Notification).where(
            Notification.user_id == user.id, Notification.read_at.is_(None), Notification.kind != "digest",
            Notification.created_at >= now() - timedelta(days=1)).order_by(Notification.id)).all()
        if not tasks and not unread:
            continue
        lines = [f"- {t.title} · {t.name}" for t in tasks[:50]]
        if unread:
            lines += [_l("未读消息 %(count)d 条：", count=len(unread))] + [f"- {n.title}" for n in unread[:50]]
        title = (_l("您有 %(count)d 项超期任务", count=len(tasks)) if tasks
                 else _l("您有 %(count)d 条未读消息", count=len(unread)))
        with in_language_of(user):
            body = "\n".join(str(line) for line in lines)
        notify(user, "digest", title, body,
               data={"task_ids": [t.id for t in tasks], "notification_ids": [n.id for n in unread]})
        sent += 1
    db.session.commit()
    return sent


def notify_enterprise(enterprise_id: int, kind: str, title: str, body: str = "") -> None:
    """Tell every active user of an enterprise."""
    for user in db.session.scalars(db.select(User).where(User.enterprise_id == enterprise_id, User.active.is_(True))):
        notify(user, kind, title, body)


def notify_committee(community_id: int, kind: str, title: str, body: str = "") -> int:
    """Tell every active user of the community's owners' committee; returns how many."""
    from app.models import OwnersCommittee
    users = db.session.scalars(db.select(User).join(OwnersCommittee, User.owners_committee_id == OwnersCommittee.id)
                               .where(OwnersCommittee.community_id == community_id, User.active.is_(True))).all()
    for user in users:
        notify(user, kind, title, body)
    return len(users)


# ---------------------------------------------------------------- task and decision notifications

def task_audience(task: dict) -> tuple[str, object] | None:
    """Who is told of a new task (its inbox row's columns), as the scope and the organisation
    of `recipients`: ("assignee", the user's id) for a task given to one user; else its
    role's active users who may act on it in their own right (the inbox's rule), scoped by
    an organisation column of User, "owners_committee", "owner", "mediator" (the mediator
    the dispute was given to, with the case's id), or "" for the role alone, with the case's
    organisation. None when nobody may: a case without that organisation."""
    if task["claimed_by_id"]:
        return "assignee", task["claimed_by_id"]
    if task["role"] == "mediator":
        return "mediator", task["instance_id"]
    column = _TASK_ORG_COLUMN.get(task["role"])
    scope = column or (task["role"] if task["role"] in ("owners_committee", "owner") else "")
    org = task[column] if column else task["community_id"]
    if scope and org is None:
        return None
    return scope, org


@cache
def recipients(scope: str, prefix: str = ""):
    """The users a new task of this scope (`task_audience`) is told to, as their ids and
    languages (`User.locale`, None: the default), run with parameters `<prefix>role` (the
    task's role) and `<prefix>org`: alone, or as a part of the engine's one statement that
    writes a completion (app/engine/combined.py, a prefix per task). Built once per scope and
    prefix: building costs more than running it."""
    from app.models import Dispute, OwnersCommittee, UserRole
    role, org = db.bindparam(f"{prefix}role"), db.bindparam(f"{prefix}org")
    if scope == "assignee":
        return db.select(User.id, User.locale).where(User.id == org)
    query = db.select(User.id, User.locale).join(UserRole, UserRole.user_id == User.id).where(
        UserRole.role == role, User.active.is_(True))
    if scope == "owners_committee":
        query = query.where(User.owners_committee_id.in_(
            db.select(OwnersCommittee.id).where(OwnersCommittee.community_id == org)))
    elif scope == "owner":
        query = query.where(User.community_id == org)
    elif scope == "mediator":  # as `permissions._mediator_cases`: the inbox shows it to them alone
        query = query.where(User.id.in_(db.select(Dispute.mediator_id).where(Dispute.instance_id == org)))
    elif scope:
        query = query.where(getattr(User, scope) == org)
    return query


def title_for(notice: dict, locale: str | None) -> str:
    """A new task's notice title (`new_task_notices`) in the language of a user of `locale`."""
    titles = notice["title"]
    return titles.get(locale) or titles[current_app.config["BABEL_DEFAULT_LOCALE"]]


def users_for_task(task: HumanTask) -> list[User]:
    """The users told of the task (`task_audience`), as when it was opened."""
    audience = task_audience({key: getattr(task, key) for key in _AUDIENCE_COLUMNS})
    if audience is None:
        return []
    return db.session.scalars(_users_query(audience[0]), {"role": task.role, "org": audience[1]}).all()


_AUDIENCE_COLUMNS = ("claimed_by_id", "role", "instance_id", "community_id", *_TASK_ORG_COLUMN.values())


@cache
def _users_query(scope: str):
    told = recipients(scope).subquery()
    return (db.select(User).where(User.id.in_(db.select(told.c.id))).options(lazyload(User.role_rows))  # roles: not needed
            .order_by(User.id))


NEW_TASK = "task"  # the kind of a new task's notification


def new_task_notices(tasks: list[dict]) -> list[dict | None]:
    """For each new task (its inbox row's columns), its notification: whom it tells (`scope`,
    `role` and `org`, the parameters of `recipients`) and what (`kind`, `title` in every
    language as {locale: text}, each user is told in theirs: `title_for`; `body`, the case's
    title); None when it tells nobody. The caller writes them (it knows the tasks' ids)."""
    notices = []
    for task in tasks:
        audience = task_audience(task)
        notices.append(None if audience is None else {
            "scope": audience[0], "role": task["role"], "org": audience[1], "kind": NEW_TASK,
            "title": _new_task_titles(task["name"], tuple(current_app.config["LANGUAGES"])), "body": task["title"]})
    return notices


@lru_cache(maxsize=1024)
def _new_task_titles(name: str, languages: tuple[str, ...]) -> dict[str, str]:
    """Made once per task name (a diagram's), not per completion: a catalog does not change
    while the app runs, and making a text in every language costs a fiftieth of a completion."""
    return in_every_language(_l("新任务：%(name)s", name=name))


def tasks_opened(tasks: list[dict], ids: list[int]) -> None:
    """New tasks in the inbox (their rows' columns and ids): store their notifications, in
    one executemany INSERT without the unit of work (nobody reads them back now)."""
    rows = []
    for task, task_id, notice in zip(tasks, ids, new_task_notices(tasks)):
        if notice is not None:
            users = db.session.execute(recipients(notice["scope"]), notice).all()
            rows.extend({"user_id": user_id, "kind": notice["kind"], "title": title_for(notice, locale),
                         "body": notice["body"], "data": {"task_id": task_id, "instance_id": task["instance_id"]}}
                        for user_id, locale in users)
    if rows:
        db.session.execute(Notification.__table__.insert(), rows)


def _decision_label(task: HumanTask, code) -> str:
    from app.engine.registry import resolve_form
    form = resolve_form(task.form_key) if task.form_key else None
    choices = getattr(getattr(form, "decision", None), "kwargs", {}).get("choices") or []
    return str(dict(choices).get(code, code))


def decision_made(task: HumanTask, data: dict, actor) -> None:
    """A task decided something ("decision" in its form) on a case a user started: tell
    that user, unless they decided it themselves."""
    from app.models import ProcessInstance
    if "decision" not in (data or {}):
        return
    instance = db.session.get(ProcessInstance, task.instance_id)
    requester = instance.started_by if instance is not None else None
    if requester is None or not requester.active or requester.id == getattr(actor, "id", None):
        return
    with in_language_of(requester):  # the decision's label too
        body = f"{task.name}：{_decision_label(task, data['decision'])}"
    notify(requester, "decision", _l("您的申请已有决定：%(title)s", title=instance.title), body,
           data={"task_id": task.id, "instance_id": instance.id, "decision": data["decision"]})


def overdue_tasks() -> int:
    """Once per task, when it passes its due time: tell whoever claimed it, or everyone
    who may act on it (a periodic job; the mark makes running it twice harmless)."""
    moment = now()
    tasks = db.session.scalars(db.select(HumanTask).where(
        HumanTask.status == "open", HumanTask.due_at < moment, HumanTask.overdue_notified_at.is_(None))).all()
    for task in tasks:
        for user in users_for_task(task):
            notify(user, "overdue", _l("任务已超期：%(name)s", name=task.name), task.title,
                   data={"task_id": task.id, "instance_id": task.instance_id})
        task.overdue_notified_at = moment
    db.session.commit()
    return len(tasks)


def unread_count(user) -> int:
    return db.session.scalar(db.select(db.func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def recent(user, limit: int = 100) -> list[Notification]:
    return db.session.scalars(db.select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id.desc()).limit(limit)).all()


def mark_read(user) -> int:
    result = db.session.execute(db.update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(read_at=now()))
    db.session.commit()
    return result.rowcount
