"""An approval overdue after 5 working days escalates to the head of the housing center
(registered by an administrator at /escrow/heads), not to the whole center."""
from app.extensions import db
from app.models import CenterHead, HumanTask, Notification
from app.services import escrow
from tests.conftest import PASSWORD
from tests.escrow.conftest import deposit, open_task

ESCALATION = "督办：拨付审批已超期"


def overdue_request(setup, bank_url, factory, clock):
    account = setup["account"]
    deposit(bank_url, account.account_no, "180000.00")
    escrow.pull_statement(account)
    year, quarter = escrow.current_quarter()
    req = escrow.request_disbursement(factory.user("enterprise", org=setup["enterprise"]), account.id, year,
                                      min(quarter, 3))
    assert clock.advance(days=15) == 1  # more than 5 working days, whatever the holidays
    return req


def test_only_an_administrator_registers_the_head_and_only_a_center_user_can_be_it(app, login_as, factory):
    staff = factory.user("housing_center", username="zhubao_staff")
    assert login_as("housing_center").get("/escrow/heads").status_code == 403
    admin = login_as("admin")
    wrong = admin.post("/escrow/heads", data={"user_id": factory.user("enterprise").id})
    assert 'data-field-error="user_id"' in wrong.get_data(as_text=True)
    assert db.session.scalar(db.select(CenterHead)) is None
    admin.post("/escrow/heads", data={"user_id": staff.id})
    assert [h.user_id for h in db.session.scalars(db.select(CenterHead))] == [staff.id]
    assert "zhubao_staff" in admin.get("/escrow/heads").get_data(as_text=True)


def test_the_overdue_escalation_goes_to_the_head_alone(app, setup, bank_url, factory, login_as, clock):
    head = factory.user("housing_center")
    escrow.register_center_head(head.id)
    ordinary = login_as("housing_center")
    req = overdue_request(setup, bank_url, factory, clock)

    task = open_task(req.instance_id, "escalate")
    assert task.name == ESCALATION and task.claimed_by_id == head.id
    assert open_task(req.instance_id, "review").claimed_by_id is None  # the review itself stays with the center
    assert f'href="/tasks/{task.id}"' not in ordinary.get("/inbox").get_data(as_text=True)
    told = db.session.scalars(db.select(Notification.user_id).where(Notification.title == f"新任务：{ESCALATION}")).all()
    assert told == [head.id]
    refused = ordinary.post(f"/tasks/{task.id}", data={"action": "complete", "note": "我来督办"})
    assert refused.status_code == 409 and db.session.get(HumanTask, task.id).status == "open"

    boss = app.test_client()
    assert boss.post("/login", data={"username": head.username, "password": PASSWORD}).status_code == 302
    assert f'href="/tasks/{task.id}"' in boss.get("/inbox?tab=mine").get_data(as_text=True)
    boss.post(f"/tasks/{task.id}", data={"action": "complete", "note": "请当日办结"})
    assert db.session.get(HumanTask, task.id).status == "completed"
    assert db.session.get(HumanTask, task.id).completed_by_id == head.id


def test_without_a_registered_head_the_escalation_stays_with_the_center(setup, bank_url, factory, login_as, clock):
    ordinary = login_as("housing_center")
    req = overdue_request(setup, bank_url, factory, clock)
    task = open_task(req.instance_id, "escalate")
    assert task.claimed_by_id is None and f'href="/tasks/{task.id}"' in ordinary.get("/inbox").get_data(as_text=True)
    ordinary.post(f"/tasks/{task.id}", data={"action": "complete", "note": "已督办"})
    assert db.session.get(HumanTask, task.id).status == "completed"
