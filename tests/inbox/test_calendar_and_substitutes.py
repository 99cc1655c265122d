"""The holiday calendar an administrator extends, the visible warning for years without
data, and out-of-office substitutes set by the user."""
from datetime import date, datetime, timezone

from app.engine import calendar, runtime
from app.engine.deploy import deploy
from app.extensions import db
from app.models import AuditEvent, CalendarDay, HumanTask, Substitute
from tests.engine.conftest import BPMN_DIR


def test_admin_adds_next_years_holidays_and_deadlines_follow(login_as, app):
    calendar.seed()
    assert calendar.current_calendar().add_working_days(date(2026, 12, 31), 1).date == date(2027, 1, 1)
    admin = login_as("admin")
    page = admin.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert 'data-testid="year-incomplete"' in page
    bad = admin.post("/admin/calendar", data={"day": "", "kind": "holiday", "name": ""})
    assert "请选择日期" in bad.get_data(as_text=True)
    admin.post("/admin/calendar", data={"day": "2027-01-01", "kind": "holiday", "name": "元旦"})
    admin.post("/admin/calendar/2027/complete")
    assert 'data-testid="year-complete"' in admin.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert db.session.get(CalendarDay, date(2027, 1, 1)).name == "元旦"
    assert calendar.current_calendar().add_working_days(date(2026, 12, 31), 1).date == date(2027, 1, 4)
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "calendar.set_day")) is not None
    assert login_as("housing_center").get("/admin/calendar").status_code == 403


def test_a_deadline_in_a_year_without_data_is_flagged(login_as, factory):
    deploy("demo_review", (BPMN_DIR / "demo_review.bpmn").read_text(encoding="utf-8"))
    enterprise = factory.enterprise()
    instance = runtime.start("demo_review", title="跨年案件", data={"review_days": 5, "account_no": "0"},
                             orgs={"enterprise_id": enterprise.id})
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id))
    task.due_at = datetime(2027, 3, 1, 2, 0, tzinfo=timezone.utc)
    db.session.commit()
    client = login_as("enterprise", org=enterprise)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "2027 年节假日尚未公布，期限按周一至周五估算" in page
    assert 'data-testid="calendar-warning"' in client.get("/inbox").get_data(as_text=True)


def test_user_names_a_substitute(login_as, factory):
    me = login_as("housing_center")
    factory.user("housing_center", username="colleague")
    assert "不能指定自己为代理人" in me.post("/account/substitutes", data={
        "username": me.user.username, "starts_on": "2026-01-01", "ends_on": "2026-01-02"}).get_data(as_text=True)
    assert "结束日期不能早于开始日期" in me.post("/account/substitutes", data={
        "username": "colleague", "starts_on": "2026-02-01", "ends_on": "2026-01-02"}).get_data(as_text=True)
    assert "代理人不存在" in me.post("/account/substitutes", data={
        "username": "nobody", "starts_on": "2026-01-01", "ends_on": "2026-01-02"}).get_data(as_text=True)
    me.post("/account/substitutes", data={"username": "colleague", "starts_on": "2026-01-01", "ends_on": "2099-01-02"})
    row = db.session.scalar(db.select(Substitute))
    assert row.user_id == me.user.id and row.ends_on == date(2099, 1, 2)
    other = login_as("housing_center")
    other.post(f"/account/substitutes/{row.id}/delete")
    assert db.session.scalar(db.select(db.func.count(Substitute.id))) == 1  # not theirs to remove
    me.post(f"/account/substitutes/{row.id}/delete")
    assert db.session.scalar(db.select(db.func.count(Substitute.id))) == 0
