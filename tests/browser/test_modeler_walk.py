"""In the browser: a process manager opens a shipped process in the bpmn-js editor (no CSP
violation, no console error), renames a task and hands a lane to another role through the
properties panel, saves the draft, draws a new user task in a pool of its own (no lanes, so
no role: the panel and the linter say so), fixes it by dragging the task into a lane, deploys
with a change note, and a new case follows the new version while an older case stays on the
old one."""
from app.engine import runtime
from app.extensions import db
from app.models import HumanTask, ProcessInstance, ProcessModelVersion
from tests.browser.conftest import screenshot
from tests.browser.test_login import login
from tests.modeler.conftest import demo_v1  # noqa: F401  (fixture)

START = {"review_days": 5, "account_no": "x"}


def watch_console(page) -> list[str]:
    """Console errors (a CSP violation is one), uncaught exceptions and failed requests
    (the browser's own favicon probe aside)."""
    errors = []
    # dmn-js's production bundle ships Inferno's "minified development build" notice as a
    # console error; it is the library's, not a failure.
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and not m.text.startswith("Failed to load resource") and "development build of Inferno" not in m.text
            else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
            and not r.url.endswith("/favicon.ico") else None)
    return errors


def select_element(page, element_id, at=None):
    """Click an element on the canvas; `at` = (x, y) fractions of its box for a spot free of other shapes.
    An element already selected stays so (a click on it would deselect it)."""
    if page.evaluate("id => { const m = window.wuyeModeler; return m.get('selection').isSelected("
                     "m.get('elementRegistry').get(id)); }", element_id):
        return
    element = page.locator(f'.djs-element[data-element-id="{element_id}"]').first
    if at is None:
        element.click()
    else:
        box = element.bounding_box()
        page.mouse.click(box["x"] + box["width"] * at[0], box["y"] + box["height"] * at[1])


def validate_and_deploy(page, note, number):
    """From the editor: the linter finds nothing, then deploy with a change note as version `number`."""
    page.get_by_test_id("validate").click()
    page.get_by_test_id("problems").get_by_text("未发现问题").wait_for()
    page.get_by_test_id("deploy").click()
    page.get_by_label("变更说明").fill(note)
    page.get_by_role("button", name="部署").click()
    page.get_by_text(f"已部署为第 {number} 版").wait_for()


def test_a_manager_edits_validates_and_deploys_a_process(app, demo_v1, factory, new_page):  # noqa: F811
    factory.user("process_manager", username="liucheng")
    old = runtime.start("demo_review", title="旧版案件", data=START)

    page = new_page()
    errors = watch_console(page)
    login(page, "liucheng")
    page.get_by_test_id("main-nav").get_by_text("流程模型").click()
    page.locator('[data-model="demo_review"]').get_by_test_id("edit-model").click()
    page.locator('#modeler-app[data-ready="true"]').wait_for()
    assert "草稿已保存" in page.get_by_test_id("save-status").inner_text()

    # Rename the review task in the properties panel.
    select_element(page, "review")
    name = page.locator('[data-prop="name"]')
    name.fill("审核申报材料")
    name.press("Enter")
    # Hand the center's lane to the housing bureau: the lane → role pick list.
    select_element(page, "lane_center", at=(0.92, 0.08))  # an empty corner of the lane
    page.locator('[data-prop="role"]').select_option("住建局")
    page.get_by_test_id("save-draft").click()
    page.get_by_test_id("save-status").filter(has_text="草稿已保存").wait_for()
    screenshot(page, "modeler-edited")

    # A new step drawn in a pool of its own: the palette's pool below the process, a task in
    # it made a user task (the context pad's 更改类型 → 用户任务), named and given its form in the panel.
    # That pool has no lanes, so the task has no role: the panel says so, and so does the linter.
    main = box(page, "demo_review_pool")
    page.locator('.djs-palette .entry[data-action="create.participant-expanded"]').click()
    page.mouse.click(main["x"] + main["width"] / 2, main["y"] + main["height"] + 150)
    pool_id = selected_id(page)
    page.evaluate("() => window.wuyeModeler.get('canvas').zoom('fit-viewport')")
    pool = box(page, pool_id)
    page.locator('.djs-palette .entry[data-action="create.task"]').click()
    page.mouse.click(pool["x"] + pool["width"] / 2, pool["y"] + pool["height"] / 2)
    task_id = selected_id(page)
    page.wait_for_timeout(450)  # diagram-js swallows a click in the 400 ms after a create or drag (its click trap)
    # select it afresh (the pad opened by the create does not open the menu), then 更改类型 → 用户任务
    page.mouse.click(pool["x"] + pool["width"] * 0.9, pool["y"] - 20)  # empty canvas: nothing selected
    select_element(page, task_id)
    page.locator('.djs-context-pad .entry[data-action="replace"]').click()
    page.locator('.djs-popup [data-id="replace-with-user-task"]').click()
    task_id = selected_id(page)  # the replaced shape
    rename(page, task_id, "附加审核")
    page.locator('[data-prop="formKey"]').select_option("demo.ReviewForm")
    assert page.locator('[data-prop="lane"]').inner_text() == "所在泳道：不在任何泳道中"
    page.get_by_test_id("validate").click()
    problem = page.get_by_test_id("problem").filter(has_text="不在任何泳道中")
    problem.wait_for()
    assert page.get_by_test_id("problem").count() == 1 and "附加审核" in problem.inner_text()
    assert problem.get_attribute("data-element") == task_id
    assert page.locator(".wuye-problem-badge").count() >= 1
    assert page.locator(f'.djs-element.wuye-problem[data-element-id="{task_id}"]').count() == 1
    screenshot(page, "modeler-lint")

    # Fix it: drag the task into the bureau's lane (a free spot right of 超期结束), then remove
    # the pool it leaves empty; the task keeps its name and form, now with a role.
    task, end = box(page, task_id), box(page, "end_overdue")
    page.mouse.move(task["x"] + task["width"] / 2, task["y"] + task["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + 250, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()
    assert selected_id(page) == task_id  # still selected: the panel shows its new lane
    assert page.locator('[data-prop="lane"]').inner_text() == "所在泳道：住建局（housing_bureau）"
    page.wait_for_timeout(450)  # the click trap again
    select_element(page, pool_id, at=(0.02, 0.5))  # the pool's name band
    assert selected_id(page) == pool_id
    page.locator('.djs-context-pad .entry[data-action="delete"]').click()
    assert page.locator(f'.djs-element[data-element-id="{task_id}"]').count() == 1
    screenshot(page, "modeler-lint-fixed")
    validate_and_deploy(page, "审核改由住建局办理，任务改名，增加附加审核", 2)
    screenshot(page, "modeler-deployed")

    v2 = db.session.scalar(db.select(ProcessModelVersion).where(ProcessModelVersion.number == 2))
    assert v2 is not None and "审核申报材料" in v2.bpmn_xml and 'name="附加审核"' in v2.bpmn_xml
    from app.engine.linter import _lanes
    from app.engine.specs import safe_xml
    assert _lanes(safe_xml(v2.bpmn_xml))[task_id] == "住建局" and pool_id not in v2.bpmn_xml
    new = runtime.start("demo_review", title="新版案件", data=START)
    assert db.session.get(ProcessInstance, new.id).version_id == v2.id
    assert db.session.get(ProcessInstance, old.id).version_id == demo_v1.id
    for instance in (old, new):
        task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id))
        runtime.complete_task(task.id, {"title": "材料", "amount": "100.00"}, None)
    reviews = {t.instance_id: t for t in db.session.scalars(db.select(HumanTask).where(HumanTask.spec_id == "review"))}
    assert (reviews[old.id].name, reviews[old.id].role) == ("审核材料", "housing_center")
    assert (reviews[new.id].name, reviews[new.id].role) == ("审核申报材料", "housing_bureau")
    assert errors == [], errors


def box(page, element_id):
    return page.locator(f'.djs-element[data-element-id="{element_id}"]').first.bounding_box()


def selected_id(page) -> str:
    return page.evaluate("() => window.wuyeModeler.get('selection').get()[0].id")


def rename(page, element_id, name):
    select_element(page, element_id)
    field = page.locator('[data-prop="name"]')
    field.fill(name)
    field.press("Enter")


def test_two_managers_editing_one_draft_the_second_save_is_refused_and_work_kept(app, demo_v1, factory,  # noqa: F811
                                                                                new_page):
    factory.user("process_manager", username="liucheng")
    factory.user("admin", username="guanli")
    pages = []
    for username in ("liucheng", "guanli"):
        page = new_page()
        page.errors = watch_console(page)
        login(page, username)
        page.goto("/modeler/demo_review/edit")
        page.locator('#modeler-app[data-ready="true"]').wait_for()
        pages.append(page)
    first, second = pages

    rename(first, "submit", "提交申报材料")
    first.get_by_test_id("save-draft").click()
    first.get_by_test_id("save-status").filter(has_text="草稿已保存").wait_for()

    rename(second, "review", "他人的修改")
    second.get_by_test_id("save-draft").click()
    conflict = second.get_by_test_id("conflict")
    conflict.wait_for()
    assert "已被" in conflict.inner_text() and "未保存" in conflict.inner_text()
    screenshot(second, "modeler-conflict")
    from app.models import ModelDraft
    draft = db.session.scalar(db.select(ModelDraft))
    db.session.refresh(draft)
    assert "提交申报材料" in draft.bpmn_xml and "他人的修改" not in draft.bpmn_xml
    # The refused work stays in the second browser: reopening offers to restore it.
    second.reload()
    second.locator('#modeler-app[data-ready="true"]').wait_for()
    assert "未保存到服务器" in second.get_by_test_id("local-copy").inner_text() or \
        "未保存的修改" in second.get_by_test_id("local-copy").inner_text()
    assert first.errors == [] and [e for e in second.errors if not e.startswith("409 ")] == []


def test_diff_trial_and_decision_pages_render_without_errors(app, demo_v1, factory, new_page):  # noqa: F811
    from tests.modeler.conftest import edited
    from app.services import modeler
    manager = factory.user("process_manager", username="liucheng")
    draft = modeler.open_draft("demo_review", manager)
    from tests.modeler.test_diff_migration_trial import OVERDUE_PATH, without
    # renamed and handed to the bureau, and without the review's deadline path
    modeler.save_draft("demo_review", manager, draft.lock_version,
                       bpmn_xml=without(edited(draft.bpmn_xml), *OVERDUE_PATH))
    modeler.create_decision("demo_review", "star_rating.dmn", "star_rating", "企业星级", manager)

    page = new_page()
    errors = watch_console(page)
    login(page, "liucheng")
    page.goto("/modeler/demo_review/diff?from=1&to=draft")
    page.locator('[data-testid="diff-new"][data-rendered="true"]').wait_for()
    assert page.locator('[data-testid="diff-new"] .djs-element.wuye-changed[data-element-id="review"]').count() == 1
    page.locator('[data-testid="diff-old"][data-rendered="true"]').wait_for()
    for element_id in OVERDUE_PATH:  # removed: marked on the old version's diagram, gone from the new
        assert page.locator(f'[data-testid="diff-old"] .djs-element.wuye-removed[data-element-id="{element_id}"]').count() == 1
        assert page.locator(f'[data-testid="diff-new"] .djs-element[data-element-id="{element_id}"]').count() == 0
    removed = page.get_by_test_id("changes").locator("li").filter(has_text="删除")
    assert removed.count() == len(OVERDUE_PATH) and removed.filter(has_text="记录超期").count() == 1
    screenshot(page, "modeler-diff")

    page.goto("/modeler/demo_review/decisions/star_rating.dmn/edit")
    page.locator('#decision-app[data-ready="true"]').wait_for()
    assert page.locator(".tjs-table, .dmn-decision-table-container").count() >= 1
    screenshot(page, "modeler-dmn")

    page.goto("/modeler/demo_review/trials")
    page.get_by_label("样例数据（JSON）").fill('{"review_days": 5, "account_no": "A-1"}')
    page.get_by_role("button", name="开始试运行").click()
    page.get_by_test_id("trial-task").filter(has_text="提交材料").get_by_role("button", name="办理").click()
    page.get_by_test_id("trial-task").filter(has_text="审核申报材料").wait_for()
    page.locator('.bpmn-canvas[data-rendered="true"]').wait_for()
    screenshot(page, "modeler-trial")
    assert errors == [], errors
