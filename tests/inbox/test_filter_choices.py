"""The inbox filter bar's processes and task names (read by a loose index scan, so that a
province's millions of tasks are not read on each inbox page): each once, in order."""
from app.engine import runtime
from app.extensions import db
from app.models import HumanTask
from app.services import inbox
from tests.inbox.test_inbox_pages import case  # noqa: F401  (fixture)


def test_each_process_and_task_name_listed_once(login_as, case, factory):  # noqa: F811
    for n in range(2):  # a second case: the same process and task name again
        runtime.start("demo_review", business_key=f"c-more-{n}", title="乙", data={"review_days": 5, "account_no": "0"},
                      orgs={"enterprise_id": case["enterprise"].id})
    assert db.session.scalar(db.select(db.func.count(HumanTask.id))) == 3
    user = factory.user("housing_center")
    choices = inbox.filter_choices(user)
    assert choices["processes"] == ["demo_review"]
    assert choices["tasks"] == ["提交材料"]

    client = login_as("housing_center")
    body = client.get("/inbox?tab=all").get_data(as_text=True)
    assert body.count('value="demo_review"') == 1 and body.count(">提交材料</option>") == 1
