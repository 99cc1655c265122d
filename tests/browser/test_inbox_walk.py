"""Two roles walk a case in the browser: the enterprise claims and completes its task, the
housing center sees it arrive, the diagram highlights the active step, the timeline shows both."""
from app.engine import runtime
from app.engine.deploy import deploy_directory
from tests.browser.conftest import screenshot
from tests.browser.test_login import login
from tests.engine.conftest import BPMN_DIR


def test_enterprise_and_center_walk_a_case(new_page, factory, app):
    from app.engine.deploy import deploy
    deploy("demo_review", (BPMN_DIR / "demo_review.bpmn").read_text(encoding="utf-8"))
    enterprise = factory.enterprise(name="乾元物业")
    community = factory.community(enterprise=enterprise, name="世纪华庭")
    factory.user("enterprise", org=enterprise, username="qianyuan")
    factory.user("housing_center", username="zhubao")
    runtime.start("demo_review", business_key="walk-1", title="乾元物业 · 世纪华庭 年度材料",
                  data={"review_days": 5, "account_no": "0"},
                  orgs={"enterprise_id": enterprise.id, "community_id": community.id,
                        "street_office_id": community.street_office_id})

    ent = new_page()
    login(ent, "qianyuan")
    ent.get_by_test_id("main-nav").get_by_text("待办任务").click()
    row = ent.get_by_test_id("task-row").filter(has_text="世纪华庭")
    row.get_by_test_id("claim").click()
    ent.get_by_test_id("task-row").get_by_text("已签收").wait_for()
    screenshot(ent, "inbox-enterprise")
    ent.get_by_test_id("task-link").first.click()
    ent.get_by_label("材料名称").fill("2026 年度服务材料")
    ent.get_by_label("年度应收物业费（元）").fill("-5")
    ent.get_by_test_id("complete").click()
    ent.locator('[data-field-error="amount"]').wait_for()  # the server refused, at the field
    ent.get_by_label("年度应收物业费（元）").fill("1200000.00")
    screenshot(ent, "task-page-enterprise")
    ent.get_by_test_id("complete").click()
    ent.get_by_text("已办理").wait_for()

    center = new_page()
    login(center, "zhubao")
    center.goto("/inbox")
    center.get_by_test_id("task-row").filter(has_text="审核材料").get_by_test_id("task-link").click()
    center.locator('[data-testid="diagram"][data-rendered="true"]').wait_for()
    assert center.locator('g.djs-element.wuye-active[data-element-id="review"]').count() == 1
    assert center.locator('g.djs-element.wuye-completed[data-element-id="submit"]').count() == 1
    timeline = center.get_by_test_id("timeline").inner_text()
    assert "发起" in timeline and "办理 · 提交材料" in timeline
    screenshot(center, "task-page-center")
    center.get_by_label("通过").check()
    center.get_by_test_id("complete").click()
    center.get_by_text("已办理").wait_for()
