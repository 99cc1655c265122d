"""In the browser: a process manager uses the editor's properties panel for what Wuye needs
beyond names and lanes (a user task's form from the pick list, a service task's operator
and its parameters, a timer in working days or as a duration, a gateway's outgoing
condition, the message a catch event waits for, documentation); the saved draft holds
exactly that, the linter accepts it and it deploys."""
import xml.etree.ElementTree as ET

from app.extensions import db
from app.models import ModelDraft, ProcessModelVersion
from tests.browser.conftest import screenshot
from tests.browser.test_login import login
from tests.browser.test_modeler_walk import select_element, validate_and_deploy, watch_console
from tests.modeler.conftest import demo_v1  # noqa: F401  (fixture)

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}


def saved_draft() -> ET.Element:
    """The server-side draft, as it is now (the live server commits in its own session)."""
    draft = db.session.scalar(db.select(ModelDraft))
    db.session.refresh(draft)
    return ET.fromstring(draft.bpmn_xml.encode("utf-8"))


def by_id(root, tag, element_id):
    return root.find(f".//bpmn:{tag}[@id='{element_id}']", NS)


def save(page):
    page.get_by_test_id("save-draft").click()
    page.get_by_test_id("save-status").filter(has_text="草稿已保存").wait_for()


def set_timer(page, kind, value, then_save=True):
    """The review deadline's timer: its kind from the pick list, then its value."""
    select_element(page, "review_deadline")
    page.locator('[data-prop="timer-kind"]').select_option(kind)
    page.locator('[data-prop="timer-value"]').fill(value)
    page.locator('[data-prop="timer-value"]').press("Enter")
    if then_save:
        save(page)


def test_the_properties_panel_sets_forms_operators_timers_conditions_messages_and_documentation(
        app, demo_v1, factory, new_page):  # noqa: F811
    factory.user("process_manager", username="liucheng")
    page = new_page()
    errors = watch_console(page)
    login(page, "liucheng")
    page.goto("/modeler/demo_review/edit")
    page.locator('#modeler-app[data-ready="true"]').wait_for()

    # User task: another registered form from the pick list, a due date and documentation.
    select_element(page, "review")
    page.locator('[data-prop="formKey"]').select_option("disputes.ReturnVisitForm")
    page.get_by_label("办理期限（可选）").fill("working_days(3)")
    page.get_by_label("办理期限（可选）").press("Enter")
    documentation = page.get_by_label("说明")
    documentation.fill("核对申报材料是否齐全；不齐全的退回修改。")
    documentation.blur()

    # Service task: another operator brings its own parameters; back to the balance query,
    # whose parameter and result variable are filled in again.
    select_element(page, "check_balance")
    operator = page.locator('[data-prop="operator"]')
    operator.select_option("devices.inform_enterprise")
    page.get_by_label("参数 repair_case_id（维修案件编号）").wait_for()
    assert page.get_by_label("参数 account_no（监管账号）").count() == 0
    page.locator('[data-prop="operator"]').select_option("demo.account_balance")
    param = page.get_by_label("参数 account_no（监管账号）")
    assert param.input_value() == "" and page.get_by_label("参数 repair_case_id（维修案件编号）").count() == 0
    param.fill("account_no")
    param.press("Enter")
    page.get_by_label("结果变量").fill("balance")
    page.get_by_label("结果变量").press("Enter")
    assert "外部系统" in page.locator('[data-role="panel"]').inner_text()

    # Boundary timer: first a plain duration.
    set_timer(page, "duration", "P2D", then_save=False)

    # The gateway's "revise" flow gets a new condition (a connection: selected as the panel's
    # list would, through the modeler's selection).
    page.evaluate("() => { const m = window.wuyeModeler; m.get('selection').select(m.get('elementRegistry').get('f_revise')); }")
    condition = page.locator('[data-prop="condition"]')
    assert condition.input_value() == "decision == 'revise'"
    condition.fill("decision in ('revise', 'resubmit')")
    condition.press("Enter")

    # The catch event waits for another declared message.
    select_element(page, "wait_confirmation")
    page.locator('[data-prop="message"]').select_option("devices.healthy")
    page.get_by_label("消息内容存入变量").fill("health_report")
    page.get_by_label("消息内容存入变量").press("Enter")
    save(page)
    screenshot(page, "modeler-panel")

    root = saved_draft()
    review = by_id(root, "userTask", "review")
    props = {p.get("name"): p.get("value") for p in review.iterfind(".//spiffworkflow:property", NS)}
    assert props == {"formKey": "disputes.ReturnVisitForm", "due": "working_days(3)"}
    assert review.find("bpmn:documentation", NS).text == "核对申报材料是否齐全；不齐全的退回修改。"
    op = by_id(root, "serviceTask", "check_balance").find(".//spiffworkflow:serviceTaskOperator", NS)
    assert (op.get("id"), op.get("resultVariable")) == ("demo.account_balance", "balance")
    assert [(p.get("id"), p.get("value")) for p in op.iterfind(".//spiffworkflow:parameter", NS)] == \
        [("account_no", "account_no")]
    timer = by_id(root, "boundaryEvent", "review_deadline").find("bpmn:timerEventDefinition", NS)
    assert timer.find("bpmn:timeDuration", NS).text == '"P2D"' and timer.find("bpmn:timeDate", NS) is None
    flow = by_id(root, "sequenceFlow", "f_revise")
    assert flow.find("bpmn:conditionExpression", NS).text == "decision in ('revise', 'resubmit')"
    definition = by_id(root, "intermediateCatchEvent", "wait_confirmation").find("bpmn:messageEventDefinition", NS)
    assert by_id(root, "message", definition.get("messageRef")).get("name") == "devices.healthy"
    assert definition.findtext(".//spiffworkflow:messageVariable", namespaces=NS) == "health_report"

    # The timer as a fixed date and time, then in Chinese working days (holidays and make-up
    # days counted).
    set_timer(page, "date", "2026-12-31T18:00:00+08:00")
    timer = by_id(saved_draft(), "boundaryEvent", "review_deadline").find("bpmn:timerEventDefinition", NS)
    assert timer.find("bpmn:timeDate", NS).text == '"2026-12-31T18:00:00+08:00"'
    assert timer.find("bpmn:timeDuration", NS) is None

    set_timer(page, "workdays", "3")
    timer = by_id(saved_draft(), "boundaryEvent", "review_deadline").find("bpmn:timerEventDefinition", NS)
    assert timer.find("bpmn:timeDate", NS).text == "working_days(3)" and timer.find("bpmn:timeDuration", NS) is None

    # Reopened, the panel shows what was saved.
    page.reload()
    page.locator('#modeler-app[data-ready="true"]').wait_for()
    select_element(page, "review_deadline")
    assert page.locator('[data-prop="timer-kind"]').input_value() == "workdays"
    assert page.locator('[data-prop="timer-value"]').input_value() == "3"
    select_element(page, "review")
    assert page.locator('[data-prop="formKey"]').input_value() == "disputes.ReturnVisitForm"

    # The linter accepts all of it, and it deploys.
    validate_and_deploy(page, "审核改用回访表单，超期按 3 个工作日计", 2)
    v2 = db.session.scalar(db.select(ProcessModelVersion).where(ProcessModelVersion.number == 2))
    assert "working_days(3)" in v2.bpmn_xml and "disputes.ReturnVisitForm" in v2.bpmn_xml
    assert errors == [], errors
