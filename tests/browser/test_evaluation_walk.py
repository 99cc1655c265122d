"""In the browser: the fire brigade scores its item of an evaluation (a score above the
item's maximum is refused at the field), then, once every department has scored, an owner
opens the community's public page without login, sees the result with its breakdown and
the QR code, and raises an objection through the public form."""
from app.extensions import db
from app.models import EvaluationObjection, HumanTask
from app.services import evaluation
from tests.browser.conftest import screenshot
from tests.browser.test_login import login
from tests.evaluation.conftest import (DUE, YEAR, clock, complete, evaluation_of, fields_for,  # noqa: F401
                                      open_tasks, processes, scorers, world)


def test_fire_brigade_scores_then_an_owner_reads_the_public_page_and_objects(app, world, scorers,  # noqa: F811
                                                                             new_page):
    evaluation.open_year(scorers["housing_center"].user, YEAR, DUE)
    community = world["communities"]["shiji"]
    ev = evaluation_of(community)
    fire_task = next(t for t in open_tasks(ev, "score") if t.role == "fire_brigade")

    page = new_page()
    login(page, scorers["fire_brigade"].user.username)
    page.goto("/inbox")
    page.get_by_test_id("task-row").filter(has_text="世纪华庭").get_by_test_id("task-link").click()
    page.get_by_label("C1 消防设施完好").fill("12")
    page.get_by_test_id("complete").click()
    c1 = next(i for i in ev.standard.items if i.code == "C1")
    error = page.locator(f'[data-field-error="i{c1.id}"]')
    error.wait_for()
    assert "本项满分 10.00 分" in error.inner_text()
    assert db.session.get(HumanTask, fire_task.id).status == "open"
    page.get_by_label("C1 消防设施完好").fill("7")
    page.get_by_label("评分说明").fill("3 号楼消防通道堆放电动车，扣 3 分")
    page.get_by_test_id("complete").click()
    page.get_by_text("已办理").wait_for()
    db.session.expire_all()
    assert db.session.get(HumanTask, fire_task.id).status == "completed"

    for task in open_tasks(ev, "score"):  # the other four departments score in full
        client = scorers["street_office:qianzhou"] if task.role == "street_office" else scorers[task.role]
        complete(client, task, fields_for(ev, task.role, {}))

    owner = new_page()
    owner.goto(f"/public/evaluation/communities/{community.id}")
    assert "吉首市乾元物业服务有限公司" in owner.get_by_test_id("enterprise").inner_text()
    assert "97.00" in owner.get_by_test_id("total").inner_text()
    assert "3 号楼消防通道堆放电动车" in owner.get_by_test_id("breakdown").inner_text()
    assert owner.get_by_test_id("qr").evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(owner, "evaluation-public-community")
    owner.get_by_label("姓名").fill("张女士")
    owner.get_by_label("手机号码").fill("13874301234")
    owner.get_by_label("异议内容").fill("电动车已于次日清走，请复核消防扣分。")
    owner.get_by_role("button", name="提交异议").click()
    owner.get_by_test_id("objection-done").wait_for()
    objection = db.session.scalar(db.select(EvaluationObjection))
    assert objection.name == "张女士" and objection.phone == "138****1234"
    assert len(open_tasks(ev, "handle_objection")) == 1
