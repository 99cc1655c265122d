"""Two roles walk a case in the browser: the enterprise claims its task in place (the row
keeps its columns, the counts follow) and completes it after a refused first try, the
housing center sees it arrive, the diagram highlights the active step, and after the
center's step the timeline shows both roles' steps."""
from app.engine import runtime
from tests.browser.conftest import screenshot
from tests.browser.test_login import login
from tests.engine.conftest import BPMN_DIR, bank_sandbox  # noqa: F401  (fixture)
from tests.engine.test_demo_process import account_no  # noqa: F401  (fixture: an account at the sandbox bank)


def test_enterprise_and_center_walk_a_case(new_page, factory, app, account_no):  # noqa: F811
    from app.engine.deploy import deploy
    deploy("demo_review", (BPMN_DIR / "demo_review.bpmn").read_text(encoding="utf-8"))
    enterprise = factory.enterprise(name="乾元物业")
    community = factory.community(enterprise=enterprise, name="世纪华庭")
    enterprise_user = factory.user("enterprise", org=enterprise, username="qianyuan")
    center_user = factory.user("housing_center", username="zhubao")
    instance = runtime.start("demo_review", business_key="walk-1", title="乾元物业 · 世纪华庭 年度材料",
                  data={"review_days": 5, "account_no": account_no},
                  orgs={"enterprise_id": enterprise.id, "community_id": community.id,
                        "street_office_id": community.street_office_id})

    ent = new_page()
    login(ent, "qianyuan")
    nav_inbox = ent.get_by_test_id("main-nav").locator("#nav-inbox-index")
    assert nav_inbox.get_by_test_id("nav-count").inner_text() == "1"
    nav_inbox.click()
    table = ent.get_by_test_id("inbox-table")
    columns = table.locator("thead th").count()
    row = ent.get_by_test_id("task-row").filter(has_text="世纪华庭")
    assert row.locator("td").count() == columns
    row.get_by_test_id("claim").click()
    claimed = ent.get_by_test_id("task-row").filter(has_text="已签收")
    claimed.wait_for()
    # the swapped-in row has every column of the header, each under its own heading
    assert claimed.locator("td").count() == columns
    assert claimed.get_by_test_id("unclaim").is_visible()
    # the tab counts and the nav badge follow without a reload
    ent.get_by_test_id("tab-mine").locator(".badge").filter(has_text="1").wait_for()
    assert ent.get_by_test_id("tab-todo").locator(".badge").inner_text() == "0"
    assert nav_inbox.get_by_test_id("nav-count").count() == 0
    screenshot(ent, "inbox-enterprise")
    ent.get_by_test_id("task-link").first.click()
    task_url = ent.url
    ent.get_by_label("材料名称").fill("2026 年度服务材料")
    ent.get_by_label("年度应收物业费（元）").fill("-5")
    ent.get_by_test_id("complete").click()
    ent.locator('[data-field-error="amount"]').wait_for()  # the server refused, at the field
    ent.get_by_label("年度应收物业费（元）").fill("1200000.00")
    ent.get_by_test_id("complete").click()
    ent.get_by_text("已办理").wait_for()
    ent.goto(task_url)  # the task page after the corrected resubmit: done, no error left
    ent.get_by_text("该任务已办理完毕。").wait_for()
    assert ent.locator("[data-field-error]").count() == 0
    assert "办理 · 提交材料 · " + enterprise_user.display_name in ent.get_by_test_id("timeline").inner_text()
    screenshot(ent, "task-page-enterprise")

    center = new_page()
    login(center, "zhubao")
    center.goto("/inbox")
    center.get_by_test_id("task-row").filter(has_text="审核材料").get_by_test_id("task-link").click()
    center.locator('[data-testid="diagram"][data-rendered="true"]').wait_for()
    assert center.locator('g.djs-element.wuye-active[data-element-id="review"]').count() == 1
    assert center.locator('g.djs-element.wuye-completed[data-element-id="submit"]').count() == 1
    timeline = center.get_by_test_id("timeline").inner_text()
    assert "发起" in timeline and "办理 · 提交材料 · " + enterprise_user.display_name in timeline
    screenshot(center, "task-page-center")
    center.get_by_label("通过").check()
    center.get_by_test_id("complete").click()
    center.get_by_text("已办理").wait_for()
    # the case's timeline now shows both roles' steps, each with who acted
    center.goto(f"/cases/{instance.id}")
    timeline = center.get_by_test_id("timeline").inner_text()
    assert "办理 · 提交材料 · " + enterprise_user.display_name in timeline
    assert "办理 · 审核材料 · " + center_user.display_name in timeline
    assert timeline.index("提交材料") < timeline.index("审核材料")
    center.locator('[data-testid="diagram"][data-rendered="true"]').wait_for()
    assert center.locator('g.djs-element.wuye-completed[data-element-id="review"]').count() == 1
    assert center.get_by_test_id("case-status").inner_text() == "等待中"  # the bank answered; waits for confirmation
    screenshot(center, "case-page-center")
