"""In-app notifications per user: a new task for those who may act on it, an overdue task
once, a decision on the request a user started; the daily digest; their delivery through the
notifier once committed (never for a rolled-back transaction, again after a failure, once);
the notifier's log implementation (SMS/email addresses masked in the log)."""
import logging
from datetime import timedelta

import pytest

from app.engine import runtime
from app.engine.calendar import now
from app.extensions import db
from app.models import HumanTask, Notification
from app.services import escrow, notify
from tests.escrow.conftest import bank_url, deposit, processes, setup  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD
from tests.html_tables import table_rows


def notes(user, kind):
    return db.session.scalars(db.select(Notification).where(Notification.user_id == user.id,
                                                            Notification.kind == kind)).all()


def start_request(setup, bank_url, factory):
    account = setup["account"]
    deposit(bank_url, account.account_no, "180000.00")
    escrow.pull_statement(account)
    requester = factory.user("enterprise", org=setup["enterprise"])
    year, quarter = escrow.current_quarter()
    req = escrow.request_disbursement(requester, account.id, year, min(quarter, 3))
    review = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == req.instance_id,
                                                          HumanTask.status == "open"))
    return requester, req, review


def test_a_new_task_notifies_those_who_may_act_and_a_decision_the_requester(app, setup, bank_url, factory, login_as,
                                                                           caplog):
    center_user = setup["center"]
    other_center = factory.user("housing_center")
    bystander = factory.user("enterprise")
    with caplog.at_level(logging.INFO, logger="wuye.notify"):
        requester, req, review = start_request(setup, bank_url, factory)
        assert "新任务" not in caplog.text  # stored with the case; handed over by the delivery job
        assert notify.deliver_pending() == 2
        assert notify.deliver_pending() == 0  # once
    for user in (center_user, other_center):
        [note] = notes(user, "task")
        assert note.title == f"新任务：{review.name}" and note.data["task_id"] == review.id
        assert note.delivered_at is not None
    assert notes(requester, "task") == [] and notes(bystander, "task") == []
    assert f"notify {center_user.username}: 新任务：{review.name}" in caplog.text  # through the notifier
    assert caplog.text.count(f"新任务：{review.name}") == 2

    page = login_as("housing_center").get("/notifications").get_data(as_text=True)
    assert table_rows(page, "notifications")[1:] == [["没有消息。"]]  # a user sees only their own
    client = app.test_client()
    assert client.post("/login", data={"username": center_user.username, "password": PASSWORD}).status_code == 302
    page = client.get("/notifications").get_data(as_text=True)
    rows = table_rows(page, "notifications")[1:]
    assert rows[0][1] == "新任务" and rows[0][2].startswith(f"新任务：{review.name}")
    assert f'href="/tasks/{review.id}"' in page
    assert "bi-bell" in page and 'badge' in page

    response = client.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "approve", "comment": ""})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    [decision] = notes(requester, "decision")
    assert decision.title.startswith("您的申请已有决定：") and decision.body.endswith("同意拨付")
    assert decision.data["instance_id"] == req.instance_id
    assert notes(center_user, "decision") == []  # the one who decided is not told

    client.post("/notifications/read")
    assert notify.unread_count(center_user) == 0 and notify.unread_count(requester) == 1


def test_an_overdue_task_is_notified_once(setup, bank_url, factory):
    requester, req, review = start_request(setup, bank_url, factory)
    claimer = setup["center"]
    assert notify.overdue_tasks() == 0  # not due yet
    review.due_at = now() - timedelta(hours=1)
    db.session.commit()
    assert notify.overdue_tasks() == 1
    assert [n.title for n in notes(claimer, "overdue")] == [f"任务已超期：{review.name}"]
    assert notes(requester, "overdue") == []
    assert notify.overdue_tasks() == 0 and len(notes(claimer, "overdue")) == 1

    other = factory.user("housing_center")
    review.claimed_by_id, review.overdue_notified_at = other.id, None  # a claimed task: only its claimer
    db.session.commit()
    assert notify.overdue_tasks() == 1
    assert len(notes(other, "overdue")) == 1 and len(notes(claimer, "overdue")) == 1


def test_the_daily_digest_and_the_log_notifier(setup, bank_url, factory, caplog):
    requester, req, review = start_request(setup, bank_url, factory)
    review.due_at = now() - timedelta(days=1)
    db.session.commit()
    with caplog.at_level(logging.INFO, logger="wuye.notify"):
        assert notify.daily_digest() == 1
        assert notify.daily_digest() == 0
        notify.notifier().send_to("sms", "13800138000", "物业服务费催缴通知", "请缴费")
        notify.notifier().send_to("email", "owner@example.com", "通知", "内容")
    [digest] = notes(setup["center"], "digest")
    assert digest.title == "您有 1 项超期任务" and review.title in digest.body
    assert f"未读消息 1 条：\n- 新任务：{review.name}" in digest.body  # the task notification of the day
    assert notes(requester, "digest") == []  # nothing overdue, nothing unread: no digest
    assert "notify sms:138******00: 物业服务费催缴通知" in caplog.text and "13800138000" not in caplog.text
    assert "notify email:own************om: 通知" in caplog.text


def test_the_digest_tells_of_unread_messages_without_overdue_tasks(setup, bank_url, factory):
    requester, req, review = start_request(setup, bank_url, factory)
    runtime.complete_task(review.id, {"decision": "reject", "comment": "余额不足"}, setup["center"])
    [decision] = notes(requester, "decision")
    assert decision.body.endswith("不予拨付")
    notify.mark_read(setup["center"])
    assert notify.daily_digest() == 1
    [digest] = notes(requester, "digest")
    assert digest.title == "您有 1 条未读消息" and decision.title in digest.body
    assert notes(setup["center"], "digest") == []  # read everything, nothing overdue


class FlakyNotifier:
    """Records what it is handed; refuses the users in `down_for` as a gateway that is down would."""
    sent: list[tuple[str, str]] = []
    down_for: set[str] = set()

    def send(self, user, title, body):
        if user.username in self.down_for:
            raise ConnectionError("gateway down")
        self.sent.append((user.username, title))


@pytest.fixture
def flaky(app):
    app.config["NOTIFIER"] = "tests.notifications.test_notifications.FlakyNotifier"
    FlakyNotifier.sent, FlakyNotifier.down_for = [], set()
    yield FlakyNotifier
    app.config.pop("NOTIFIER")


def test_nothing_is_delivered_of_a_transaction_that_rolled_back(app, factory, flaky):
    user = factory.user("housing_center")
    notify.notify(user, "task", "新任务：不算数")
    db.session.flush()  # written, as a case's rows are, then the case's transaction fails
    db.session.rollback()
    notify.notify(user, "task", "新任务：算数")
    db.session.commit()
    assert notify.deliver_pending() == 1
    assert flaky.sent == [(user.username, "新任务：算数")]


def test_a_failed_delivery_waits_for_the_next_run_in_order(app, factory, flaky, caplog):
    first, down, last = (factory.user("housing_center") for _ in range(3))
    for user in (first, down, last):
        notify.notify(user, "task", f"给{user.username}")
    db.session.commit()
    flaky.down_for = {down.username}
    assert notify.deliver_pending() == 1
    assert flaky.sent == [(first.username, f"给{first.username}")]
    assert "the notifier failed on notification" in caplog.text
    assert [n.delivered_at is None for n in (notes(first, "task") + notes(down, "task") + notes(last, "task"))] == [
        False, True, True]
    flaky.down_for = set()
    assert notify.deliver_pending() == 2
    assert [who for who, _ in flaky.sent] == [first.username, down.username, last.username]  # each once, in order


def test_a_deactivated_user_is_handed_nothing(app, factory, flaky):
    gone = factory.user("housing_center")
    notify.notify(gone, "task", "新任务：离职前")
    gone.active = False
    db.session.commit()
    assert notify.deliver_pending() == 1  # handled: it does not wait forever
    assert flaky.sent == [] and notify.deliver_pending() == 0


def test_a_backlog_drains_in_batches_in_one_run(app, factory, flaky):
    users = [factory.user("housing_center") for _ in range(5)]
    for user in users:
        notify.notify(user, "digest", "每日提醒")
    db.session.commit()
    assert notify.deliver_pending(batch=2) == 5  # batches of 2, 2 and 1
    assert sorted(who for who, _ in flaky.sent) == sorted(u.username for u in users)
    assert notify.deliver_pending(batch=2) == 0
