"""In the browser: a process manager edits cells of a decision table with dmn-js, saves the
draft, and the saved DMN holds the new condition and result (and shows them when reopened)."""
import xml.etree.ElementTree as ET

from app.extensions import db
from app.models import ModelDraft
from app.services import modeler
from tests.browser.test_login import login
from tests.browser.test_modeler_walk import watch_console
from tests.modeler.conftest import demo_v1  # noqa: F401  (fixture)

DMN = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
DECISION = "/modeler/demo_review/decisions/star_rating.dmn/edit"


def entry_texts() -> dict:
    """The saved draft's decision table: each rule entry's id → its text."""
    draft = db.session.scalar(db.select(ModelDraft))
    db.session.refresh(draft)
    root = ET.fromstring(draft.dmn_files["star_rating.dmn"].encode("utf-8"))
    return {e.get("id"): e.findtext("dmn:text", namespaces=DMN) for e in root.iterfind(".//dmn:rule/*", DMN)}


def cell(page, entry_id):
    return page.locator(f'td[data-element-id="{entry_id}"] [contenteditable]')


def type_into(page, entry_id, text):
    """As a user does: click the cell, select its text, type over it."""
    cell(page, entry_id).click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def test_a_manager_edits_decision_table_cells_and_the_draft_keeps_them(app, demo_v1, factory,  # noqa: F811
                                                                      new_page):
    manager = factory.user("process_manager", username="liucheng")
    modeler.create_decision("demo_review", "star_rating.dmn", "star_rating", "企业星级", manager)
    page = new_page()
    errors = watch_console(page)
    login(page, "liucheng")
    page.goto(DECISION)
    page.locator('#decision-app[data-ready="true"]').wait_for()
    assert cell(page, "star_rating_rule_1_in").inner_text().strip() == ">= 90"

    type_into(page, "star_rating_rule_1_in", ">= 85")
    type_into(page, "star_rating_rule_1_out", '"优"')
    page.get_by_test_id("save-status").filter(has_text="有未保存的修改").wait_for()
    page.get_by_test_id("save-draft").click()
    page.get_by_test_id("save-status").filter(has_text="草稿已保存").wait_for()

    assert entry_texts() == {"star_rating_rule_1_in": ">= 85", "star_rating_rule_1_out": '"优"',
                     "star_rating_rule_2_in": "-", "star_rating_rule_2_out": '"B"'}

    page.reload()
    page.locator('#decision-app[data-ready="true"]').wait_for()
    assert cell(page, "star_rating_rule_1_in").inner_text().strip() == ">= 85"
    assert errors == [], errors


def test_decision_table_work_left_after_the_login_expired_is_offered_back(app, demo_v1, factory,  # noqa: F811
                                                                          new_page):
    manager = factory.user("process_manager", username="liucheng")
    modeler.create_decision("demo_review", "star_rating.dmn", "star_rating", "企业星级", manager)
    page = new_page()
    login(page, "liucheng")
    page.goto(DECISION)
    page.locator('#decision-app[data-ready="true"]').wait_for()
    page.context.clear_cookies()  # the login expires
    type_into(page, "star_rating_rule_1_in", ">= 80")
    page.get_by_test_id("save-draft").click()
    page.get_by_test_id("save-status").filter(has_text="登录已过期").wait_for()
    context = page.context
    page.close()

    page = context.new_page()
    login(page, "liucheng")
    page.goto(DECISION)
    page.locator('#decision-app[data-ready="true"]').wait_for()
    local = page.get_by_test_id("local-copy")
    assert "未保存到服务器的修改" in local.inner_text()
    local.get_by_role("button", name="恢复本地副本").click()
    page.get_by_test_id("save-status").filter(has_text="草稿已保存").wait_for()
    assert entry_texts()["star_rating_rule_1_in"] == ">= 80"
