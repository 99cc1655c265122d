"""What the system tells a user is in that user's language, whoever's action told them: the
language switch is kept with the account, a new task, a decision and a digest are written in
the reader's language, and an English-speaking actor's records for others stay in Chinese."""
import re
from pathlib import Path

from app.extensions import db
from app.models import Notification, User
from app.services import notify
from app.web.notifications.routes import KINDS
from tests.conftest import PASSWORD
from tests.escrow.conftest import bank_url, processes, setup  # noqa: F401 (fixtures)
from tests.html_tables import table_rows
from tests.notifications.test_notifications import notes, start_request

ROOT = Path(__file__).resolve().parents[2]


def logged_in(app, user, lang=None):
    client = app.test_client()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    if lang:
        assert client.post(f"/lang/{lang}", data={"next": "/"}).status_code == 302
    return client


def test_the_language_switch_is_kept_with_the_account(app, factory):
    user = factory.user("housing_center")
    logged_in(app, user, "en")
    assert db.session.get(User, user.id).locale == "en"
    again = logged_in(app, user)  # another device: a fresh session
    assert '<html lang="en">' in again.get("/inbox").get_data(as_text=True)

    chosen_before = app.test_client()  # the switch on the login page is kept too
    chosen_before.post("/lang/zh_CN", data={"next": "/login"})
    chosen_before.post("/login", data={"username": user.username, "password": PASSWORD})
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "zh_CN"
    logged_in(app, user, "fr")  # not one of the app's languages: nothing changes
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "zh_CN"


def test_each_user_is_told_in_their_own_language_whoever_acted(app, setup, bank_url, factory):
    center = setup["center"]  # no language chosen: the default
    english = factory.user("housing_center")
    logged_in(app, english, "en")
    requester, req, review = start_request(setup, bank_url, factory)

    [chinese_note], [english_note] = notes(center, "task"), notes(english, "task")
    assert chinese_note.title == f"新任务：{review.name}"
    assert english_note.title == f"New task: {review.name}"
    page = logged_in(app, english).get("/notifications").get_data(as_text=True)
    [row] = table_rows(page, "notifications")[1:]
    assert row[1] == "New task" and row[2].startswith(f"New task: {review.name}")

    # The English-speaking colleague decides; the requester, who chose nothing, reads Chinese.
    decider = logged_in(app, english)
    response = decider.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "approve", "comment": ""})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    [decision] = notes(requester, "decision")
    assert decision.title.startswith("您的申请已有决定：") and decision.body.endswith("同意拨付")

    # The digest of an English-speaking user is English, the lines it quotes too.
    db.session.execute(db.delete(Notification).where(Notification.kind == "digest"))
    assert notify.daily_digest() >= 2
    [digest] = notes(english, "digest")
    assert digest.title == "You have 1 unread messages" and f"New task: {review.name}" in digest.body
    [digest] = notes(center, "digest")
    assert digest.title == "您有 1 条未读消息" and f"新任务：{review.name}" in digest.body


def test_every_kind_of_notification_has_a_name_on_the_page():
    """The category column names each kind the services tell users of, not its code."""
    calls = re.compile(r"notify(?:_enterprise|_committee)?\([^,()]+(?:\([^()]*\))?,\s*\"([a-z_]+)\"")
    kinds = {kind for path in (ROOT / "app").rglob("*.py") for kind in calls.findall(path.read_text())}
    kinds |= {"task"}  # written by the engine's completion (notify.new_task_notices)
    assert {"decision", "overdue", "digest", "contract_renewal", "high_risk", "device_fault"} <= kinds
    assert sorted(kinds - set(KINDS)) == []
