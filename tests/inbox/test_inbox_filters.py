"""The inbox as a supervisor uses it all day: every filter, the due-soon badge, sort order,
pages, the case's start time, and claim/unclaim in place with the counts kept true."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from app.engine import runtime
from app.engine.deploy import deploy
from app.extensions import db
from app.models import HumanTask, ProcessInstance
from tests.engine.conftest import BPMN_DIR
from tests.html_tables import table_rows

START = {"review_days": 5, "account_no": "0"}


def start(title, community, **extra):
    instance = runtime.start("demo_review", business_key=title, title=title, data=START,
                             orgs={"enterprise_id": community.enterprise_id, "community_id": community.id,
                                   "street_office_id": community.street_office_id, **extra})
    return db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id))


@pytest.fixture
def cases(app, factory):
    """Three cases: two streets, two communities, one submitted already (its task is a review)."""
    deploy("demo_review", (BPMN_DIR / "demo_review.bpmn").read_text(encoding="utf-8"))
    enterprise = factory.enterprise(name="乾元物业")
    east, west = factory.street_office("乾州街道"), factory.street_office("峒河街道")
    huating = factory.community(enterprise=enterprise, street_office=east, name="世纪华庭")
    hewan = factory.community(enterprise=enterprise, street_office=west, name="峒河湾")
    a = start("乙 · 世纪华庭 年度材料", huating)
    b = start("甲 · 峒河湾 年度材料", hewan)
    c = start("丙 · 世纪华庭 补充材料", huating)
    runtime.complete_task(c.id, {"title": "材料", "amount": "10"}, None)
    review = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == c.instance_id,
                                                          HumanTask.status == "open"))
    return {"a": a, "b": b, "review": review, "huating": huating, "hewan": hewan, "east": east, "west": west,
            "enterprise": enterprise}


def titles(page) -> list[str]:
    """The case titles in the table, in order (the todo tab's first column is the checkbox)."""
    rows = table_rows(page.get_data(as_text=True), "inbox-table")
    column = rows[0].index("案件")
    return [row[column] for row in rows[1:] if len(row) > column]


def test_each_filter_narrows_the_list(login_as, cases):
    center = login_as("housing_center")
    everything = titles(center.get("/inbox?tab=all"))
    assert sorted(everything) == ["丙 · 世纪华庭 补充材料", "乙 · 世纪华庭 年度材料", "甲 · 峒河湾 年度材料"]
    assert sorted(titles(center.get(f"/inbox?tab=all&community_id={cases['huating'].id}"))) == [
        "丙 · 世纪华庭 补充材料", "乙 · 世纪华庭 年度材料"]
    assert titles(center.get(f"/inbox?tab=all&street_office_id={cases['west'].id}")) == ["甲 · 峒河湾 年度材料"]
    assert titles(center.get("/inbox?tab=all&task=审核材料")) == ["丙 · 世纪华庭 补充材料"]
    assert sorted(titles(center.get("/inbox?tab=all&task=提交材料"))) == ["乙 · 世纪华庭 年度材料", "甲 · 峒河湾 年度材料"]
    both = center.get(f"/inbox?tab=all&task=提交材料&community_id={cases['huating'].id}")
    assert titles(both) == ["乙 · 世纪华庭 年度材料"]
    html = both.get_data(as_text=True)  # the filters survive in the form (and so a reload)
    assert f'value="{cases["huating"].id}" selected' in html and '<option value="提交材料" selected>提交材料</option>' in html


def test_due_within_one_working_day_is_filtered_and_badged(login_as, cases):
    soon, later = cases["a"], cases["b"]
    soon.due_at = datetime.now(timezone.utc) + timedelta(hours=2)
    later.due_at = datetime.now(timezone.utc) + timedelta(days=30)
    db.session.commit()
    center = login_as("housing_center")
    page = center.get("/inbox?tab=all&due=today")
    assert titles(page) == [soon.title]
    row = page.get_data(as_text=True).split(f'id="task-{soon.id}"')[1].split("</tr>")[0]
    assert 'data-testid="badge-soon"' in row and "即将到期" in row
    all_rows = center.get("/inbox?tab=all").get_data(as_text=True)
    later_row = all_rows.split(f'id="task-{later.id}"')[1].split("</tr>")[0]
    assert 'data-testid="badge-soon"' not in later_row and 'data-testid="badge-overdue"' not in later_row
    cases["review"].due_at = datetime.now(timezone.utc) + timedelta(days=3)
    db.session.commit()
    assert sorted(titles(center.get("/inbox?tab=all&due=week"))) == sorted([soon.title, cases["review"].title])


def test_sorting_changes_the_order(login_as, cases):
    center = login_as("housing_center")
    by_title = titles(center.get("/inbox?tab=all&sort=title"))
    assert by_title == sorted(by_title) and len(by_title) == 3
    assert titles(center.get("/inbox?tab=all&sort=title&desc=1")) == list(reversed(by_title))
    now = datetime.now(timezone.utc)
    cases["b"].due_at, cases["review"].due_at, cases["a"].due_at = (now + timedelta(days=d) for d in (1, 30, 60))
    db.session.commit()
    order = [cases[k].title for k in ("b", "review", "a")]
    assert titles(center.get("/inbox?tab=all&sort=due")) == order
    assert titles(center.get("/inbox?tab=all&sort=due&desc=1")) == list(reversed(order))


def test_the_started_column_is_the_cases_start_not_the_tasks_arrival(login_as, cases):
    instance = db.session.get(ProcessInstance, cases["review"].instance_id)
    instance.started_at = datetime(2026, 3, 2, 1, 30, tzinfo=timezone.utc)  # 09:30 in Jishou
    db.session.commit()
    center = login_as("housing_center")
    page = center.get("/inbox?tab=all&task=审核材料").get_data(as_text=True)
    header, row = table_rows(page, "inbox-table")[:2]
    assert header[3] == "发起时间" and row[3] == "2026-03-02 09:30"
    # and sorting by it puts the oldest case first
    assert titles(center.get("/inbox?tab=all&sort=started"))[0] == cases["review"].title
    assert titles(center.get("/inbox?tab=all&sort=started&desc=1"))[-1] == cases["review"].title


def test_pages_of_25(login_as, cases):
    for n in range(24):  # 27 open tasks in all
        start(f"批量案件 {n:02d}", cases["hewan"])
    center = login_as("housing_center")
    first = titles(center.get("/inbox?tab=all&sort=title"))
    second = center.get("/inbox?tab=all&sort=title&page=2")
    assert len(first) == 25 and len(titles(second)) == 2
    assert not set(first) & set(titles(second))
    html = second.get_data(as_text=True)
    assert re.search(r'class="page-item active"><a class="page-link" href="[^"]*page=2[^"]*">2</a>', html)
    assert "sort=title" in html.split('class="pagination"')[1]  # the pages keep the sort
    # a filter counts what it finds, not the whole tab: 26 of 28 make two pages, 2 make one
    start("批量案件 24", cases["hewan"])
    filtered = center.get(f"/inbox?tab=all&community_id={cases['hewan'].id}")
    pager = filtered.get_data(as_text=True).split('class="pagination"')[1]
    assert len(titles(filtered)) == 25 and ">2</a>" in pager and ">3</a>" not in pager
    few = center.get(f"/inbox?tab=all&community_id={cases['huating'].id}")
    assert len(titles(few)) == 2 and 'class="pagination"' not in few.get_data(as_text=True)


def cells(fragment: str) -> int:
    """Cells of the first table row in an htmx answer."""
    return len(table_rows(f'<table data-testid="t">{fragment}</table>', "t")[0])


def test_claim_in_place_keeps_the_columns_and_refreshes_the_counts(login_as, cases):
    client = login_as("enterprise", org=cases["enterprise"])
    page = client.get("/inbox").get_data(as_text=True)
    header = table_rows(page, "inbox-table")[0]
    assert len(header) == 8  # the checkbox column, six columns, the actions
    task = cases["a"]
    answer = client.post(f"/tasks/{task.id}/claim?tab=todo", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert cells(answer) == len(header)
    assert 'name="task_id"' not in answer.split("</tr>")[0]  # a claimed task is not offered for bulk claim
    # out of band: the todo tab lost one, the mine tab won one, the nav badge follows
    assert '<span hx-swap-oob="innerHTML:[data-testid=tab-todo] .badge">1</span>' in answer
    assert '<span hx-swap-oob="innerHTML:[data-testid=tab-mine] .badge">1</span>' in answer
    nav = answer.split('hx-swap-oob="innerHTML:#nav-inbox-index"')[1]
    assert re.search(r'data-testid="nav-count">1</span>', nav)
    # the same numbers the page shows after a reload
    reloaded = client.get("/inbox").get_data(as_text=True)
    assert re.search(r'data-testid="tab-todo">\s*待办 <span class="badge bg-secondary">1</span>', reloaded)
    assert re.search(r'data-testid="tab-mine">\s*我的 <span class="badge bg-secondary">1</span>', reloaded)

    # unclaim in place from the mine tab: no checkbox column there
    mine_header = table_rows(client.get("/inbox?tab=mine").get_data(as_text=True), "inbox-table")[0]
    assert len(mine_header) == 7
    back = client.post(f"/tasks/{task.id}/unclaim?tab=mine", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert cells(back) == len(mine_header)
    assert "已退回待办" in back and 'data-testid="claim"' in back
    assert '<span hx-swap-oob="innerHTML:[data-testid=tab-todo] .badge">2</span>' in back
    assert '<span hx-swap-oob="innerHTML:[data-testid=tab-mine] .badge">0</span>' in back
    assert db.session.get(HumanTask, task.id).claimed_by_id is None
    assert sorted(titles(client.get("/inbox"))) == sorted([cases["a"].title, cases["b"].title])


def test_unclaiming_someone_elses_task_is_refused_in_place(login_as, cases):
    owner = login_as("enterprise", org=cases["enterprise"])
    owner.post(f"/tasks/{cases['a'].id}/claim")
    colleague = login_as("enterprise", org=cases["enterprise"])
    answer = colleague.post(f"/tasks/{cases['a'].id}/unclaim?tab=todo", headers={"HX-Request": "true"})
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert "只能退回自己签收的任务" in text and cells(text) == 8
    assert db.session.get(HumanTask, cases["a"].id).claimed_by_id == owner.user.id
