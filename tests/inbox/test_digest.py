"""The daily overdue digest: prepared once a day per user, shown on the dashboard, sent through
the notifier by the delivery job once stored."""
from datetime import datetime, timedelta, timezone

from app.engine import runtime
from app.extensions import db
from app.models import HumanTask, Notification
from app.services.notify import daily_digest, deliver_pending
from tests.engine.conftest import BPMN_DIR


def test_daily_digest_lists_overdue_tasks_once(login_as, factory, caplog):
    from app.engine.deploy import deploy
    deploy("demo_review", (BPMN_DIR / "demo_review.bpmn").read_text(encoding="utf-8"))
    enterprise = factory.enterprise(name="甲物业")
    instance = runtime.start("demo_review", title="甲物业 · 年度材料", data={"review_days": 5, "account_no": "0"},
                             orgs={"enterprise_id": enterprise.id})
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id))
    task.due_at = datetime.now(timezone.utc) - timedelta(days=2)
    db.session.commit()
    client = login_as("enterprise", org=enterprise)
    other = login_as("enterprise")
    with caplog.at_level("INFO", logger="wuye.notify"):
        assert daily_digest() == 1  # only the user who can act on the overdue task
        assert "您有 1 项超期任务" not in caplog.text  # stored: the delivery job hands it over
        assert deliver_pending() == 1
    assert "您有 1 项超期任务" in caplog.text
    assert daily_digest() == 0  # already sent today
    rows = db.session.scalars(db.select(Notification)).all()
    assert len(rows) == 1 and rows[0].user_id == client.user.id
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="overdue-list"' in page and "甲物业 · 年度材料" in page and "每日提醒" in page
    assert 'data-testid="overdue-list"' not in other.get("/").get_data(as_text=True)
