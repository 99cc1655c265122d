"""A process manager edits a shipped process as a draft (running cases untouched), a
second manager's stale save is refused, the linter points at the elements, and a deploy
makes a new version that new cases follow while older cases stay on theirs."""
import re

import pytest

from app.engine import runtime
from app.extensions import db
from app.models import AuditEvent, HumanTask, ModelDraft, ProcessInstance, ProcessModelVersion
from tests.conftest import PASSWORD
from tests.modeler.conftest import DEMO, draft_of, edited, save


def versions():
    return db.session.scalars(db.select(ProcessModelVersion).order_by(ProcessModelVersion.number)).all()


def test_the_model_list_shows_versions_deployers_and_running_cases(demo_v1, manager):
    runtime.start("demo_review", title="甲物业 · 演示", data={"review_days": 5, "account_no": "x"})
    page = manager.get("/modeler/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "材料审核（演示流程）" in html and "demo_review" in html and "v1" in html and "使用中" in html
    assert '<td class="text-end" data-testid="running">1</td>' in html
    show = manager.get("/modeler/demo_review").get_data(as_text=True)
    assert "bpmn/demo_review.bpmn" in show


def test_a_draft_is_saved_and_a_stale_save_is_refused_never_overwriting(demo_v1, manager, login_as):
    other = login_as("admin", username="guanli")
    mine, theirs = draft_of(manager), draft_of(other)
    assert mine["lock_version"] == theirs["lock_version"] == 1 and mine["base_version"] == 1

    first = save(manager, edited(mine["xml"]), mine["lock_version"])
    assert first.status_code == 200 and first.get_json()["lock_version"] == 2

    stale = save(other, mine["xml"].replace("提交材料", "他人的修改"), theirs["lock_version"])
    assert stale.status_code == 409
    body = stale.get_json()
    assert "已被" in body["message"] and "未保存" in body["message"]
    assert "审核申报材料" in draft_of(other)["xml"] and "他人的修改" not in draft_of(other)["xml"]
    # Running cases and versions are untouched by drafts.
    assert [v.number for v in versions()] == [1] and "审核申报材料" not in versions()[0].bpmn_xml


def test_validation_names_the_element_of_each_problem(demo_v1, manager):
    d = draft_of(manager)
    stray = d["xml"].replace('<bpmn:endEvent id="end_done" name="审核通过">',
                             '<bpmn:userTask id="stray" name="游离任务" />\n    <bpmn:endEvent id="end_done" name="审核通过">')
    assert save(manager, stray, d["lock_version"]).status_code == 200
    problems = manager.post("/modeler/demo_review/validate").get_json()["problems"]
    assert {"element_id": "stray", "message": "用户任务 “游离任务” 不在任何泳道中。"} in problems
    assert {"element_id": "stray", "message": "用户任务 “游离任务” 没有指定表单（formKey）。"} in problems

    deploy_page = manager.post("/modeler/demo_review/deploy", data={"note": "试图部署", "lock_version": 2})
    assert deploy_page.status_code == 422
    assert "不在任何泳道中" in deploy_page.get_data(as_text=True)
    assert len(versions()) == 1


def test_deploy_makes_a_new_version_new_cases_follow_it_old_ones_stay(demo_v1, manager):
    old = runtime.start("demo_review", title="旧案件", data={"review_days": 5, "account_no": "x"})
    d = draft_of(manager)
    assert save(manager, edited(d["xml"]), d["lock_version"]).status_code == 200

    missing_note = manager.post("/modeler/demo_review/deploy", data={"note": "", "lock_version": 2})
    assert missing_note.status_code == 422 and "请填写变更说明" in missing_note.get_data(as_text=True)
    stale = manager.post("/modeler/demo_review/deploy", data={"note": "改名", "lock_version": 1})
    assert stale.status_code == 409 and len(versions()) == 1

    deployed = manager.post("/modeler/demo_review/deploy", data={"note": "审核改由住建局办理", "lock_version": 2})
    assert deployed.status_code == 302
    v1, v2 = versions()
    assert v2.number == 2 and v2.status == "deployed" and v2.note == "审核改由住建局办理"
    assert v2.author.username == "liucheng"
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "process.deploy").order_by(AuditEvent.id.desc()))
    assert event.actor_name == "liucheng" and event.after["version"] == 2

    new = runtime.start("demo_review", title="新案件", data={"review_days": 5, "account_no": "x"})
    assert db.session.get(ProcessInstance, old.id).version_id == v1.id
    assert db.session.get(ProcessInstance, new.id).version_id == v2.id
    # Both cases reach the review: the old one as v1 defines it, the new one as v2 does.
    for instance in (old, new):
        task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id))
        runtime.complete_task(task.id, {"title": "材料", "amount": "100.00"}, None)
    reviews = {t.instance_id: t for t in db.session.scalars(db.select(HumanTask).where(HumanTask.spec_id == "review"))}
    assert (reviews[old.id].name, reviews[old.id].role) == ("审核材料", "housing_center")
    assert (reviews[new.id].name, reviews[new.id].role) == ("审核申报材料", "housing_bureau")

    page = manager.get("/modeler/demo_review").get_data(as_text=True)
    assert "审核改由住建局办理" in page and "liucheng" in page


def test_deploying_an_unchanged_draft_makes_no_version_and_retire_stops_new_cases(demo_v1, manager):
    d = draft_of(manager)
    unchanged = manager.post("/modeler/demo_review/deploy", data={"note": "无修改", "lock_version": d["lock_version"]},
                             follow_redirects=True)
    assert "没有产生新版本" in unchanged.get_data(as_text=True) and len(versions()) == 1

    running = runtime.start("demo_review", title="停用前", data={"review_days": 5, "account_no": "x"})
    assert manager.post("/modeler/demo_review/versions/1/retire").status_code == 302
    assert versions()[0].status == "retired"
    import pytest
    from app.services.errors import NotFound
    with pytest.raises(NotFound):
        runtime.start("demo_review", title="停用后")
    assert db.session.get(ProcessInstance, running.id).status == "running"
    assert db.session.scalar(db.select(AuditEvent.id).where(AuditEvent.action == "process.retire")) is not None
    assert manager.post("/modeler/demo_review/versions/1/reactivate").status_code == 302
    assert versions()[0].status == "deployed"


def test_a_new_model_starts_from_a_blank_draft(app, manager):
    bad = manager.post("/modeler/new", data={"key": "Bad Key", "name": ""})
    assert bad.status_code == 200 and "标识须以小写字母开头" in bad.get_data(as_text=True)
    created = manager.post("/modeler/new", data={"key": "contract_review", "name": "合同备案审查"})
    assert created.status_code == 302 and created.headers["Location"].endswith("/modeler/contract_review/edit")
    draft = draft_of(manager, "contract_review")
    assert "合同备案审查" in draft["xml"] and draft["base_version"] is None
    assert manager.get("/modeler/contract_review/edit").status_code == 200
    assert db.session.scalar(db.select(db.func.count(ModelDraft.id))) == 1


class TestWithCsrf:
    """The contract draftsync.js relies on after an expired login: the editor page's CSRF
    token belongs to the old session; the draft endpoint hands out the new session's."""

    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    @staticmethod
    def login(client, username):
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302

    def test_after_logging_in_again_the_draft_endpoint_gives_the_token_that_saves(self, demo_v1, client, factory):
        factory.user("process_manager", username="liucheng")
        self.login(client, "liucheng")
        page = client.get("/modeler/demo_review/edit").get_data(as_text=True)
        old_token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        lock = client.get("/modeler/demo_review/draft.json").get_json()["lock_version"]
        client.post("/logout", data={"csrf_token": old_token})  # the session ends
        self.login(client, "liucheng")

        stale = client.post("/modeler/demo_review/draft", json={"xml": edited(DEMO), "lock_version": lock},
                            headers={"X-CSRFToken": old_token})
        assert stale.status_code == 400 and "审核申报材料" not in draft_of(client)["xml"]
        token = draft_of(client)["csrf_token"]
        saved = client.post("/modeler/demo_review/draft", json={"xml": edited(DEMO), "lock_version": lock},
                            headers={"X-CSRFToken": token})
        assert saved.status_code == 200, saved.get_data(as_text=True)
        assert "审核申报材料" in draft_of(client)["xml"]
