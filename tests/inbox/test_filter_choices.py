"""The inbox filter bar's processes and task names (read by a loose index scan, so that a
province's millions of tasks are not read on each inbox page): each once, in order."""
import re

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


def test_tab_counts_are_counted_again_on_the_next_request(login_as, case):  # noqa: F811
    """The nav badge and the tabs share one count per request, never across requests."""
    client = login_as("enterprise", org=case["enterprise"])
    badge = r'data-testid="tab-todo">\s*待办 <span class="badge bg-secondary">{}</span>'
    assert re.search(badge.format(1), client.get("/inbox").get_data(as_text=True))
    runtime.complete_task(case["task"].id, {"title": "t", "amount": "1"}, None)
    assert re.search(badge.format(0), client.get("/inbox").get_data(as_text=True))
