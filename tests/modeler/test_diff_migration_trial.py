"""Version diff (list and diagram markers), migration of running cases with its preview
(which may move, which may not and why; the default is to stay), sandbox test runs of a
draft (no real case, no outside call), and DMN decision tables in the draft."""
from app.engine import runtime
from app.extensions import db
from app.models import HumanTask, InstanceEvent, ModelTrial, ProcessInstance, ProcessModelVersion, ServiceCall
from tests.modeler.conftest import DEMO, draft_of, edited, save

START = {"review_days": 5, "account_no": "x"}


def deploy_v2(manager, xml):
    d = draft_of(manager)
    assert save(manager, xml, d["lock_version"]).status_code == 200
    response = manager.post("/modeler/demo_review/deploy", data={"note": "第二版", "lock_version": d["lock_version"] + 1})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]


def test_the_diff_lists_and_marks_what_changed(demo_v1, manager):
    d = draft_of(manager)
    xml = edited(d["xml"]).replace('<bpmn:sequenceFlow id="f_wait_end" sourceRef="wait_confirmation" targetRef="end_done" />',
                                   '<bpmn:sequenceFlow id="f_wait_end" sourceRef="wait_confirmation" targetRef="end_done" />'
                                   '<bpmn:endEvent id="unused_end" name="备用结束" />')
    xml = xml.replace("decision == 'revise'", "decision == 'revise' and round_no &lt; 3")
    assert save(manager, xml, d["lock_version"]).status_code == 200
    page = manager.get("/modeler/demo_review/diff?from=1&to=draft")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "“审核申报材料”" in html and "名称：审核材料 → 审核申报材料" in html
    assert "泳道 “住建局”" in html and "名称：住保中心 → 住建局" in html
    assert "结束事件 “备用结束”" in html and "条件：decision == &#39;revise&#39; → " in html
    new = manager.get("/modeler/demo_review/diff.json?from=1&to=draft&side=new").get_json()
    assert "unused_end" in new["states"]["added"] and {"review", "lane_center", "f_revise"} <= set(new["states"]["changed"])
    old = manager.get("/modeler/demo_review/diff.json?from=1&to=draft&side=old").get_json()
    assert old["states"]["removed"] == [] and "审核材料" in old["xml"]


def without(xml: str, *ids: str) -> str:
    """The diagram without these elements (and their lane references and shapes)."""
    from lxml import etree
    root = etree.fromstring(xml.encode())
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        if el.get("id") in ids or el.get("bpmnElement") in ids or (el.tag.endswith("flowNodeRef") and el.text in ids):
            el.getparent().remove(el)
    return etree.tostring(root, encoding="unicode")


OVERDUE_PATH = ("review_deadline", "mark_overdue", "end_overdue", "f_overdue", "f_overdue_end")


def test_the_diff_lists_and_marks_removed_elements(demo_v1, manager):
    """The draft drops the review's deadline path: each element is listed as removed, marked on
    the old version's diagram, and absent from the new one's markers."""
    d = draft_of(manager)
    assert save(manager, without(d["xml"], *OVERDUE_PATH), d["lock_version"]).status_code == 200
    html = manager.get("/modeler/demo_review/diff?from=1&to=draft").get_data(as_text=True)
    changes = html.split('data-testid="changes"')[1].split("</ul>")[0]
    removed = [item for item in changes.split('<li class="list-group-item">')[1:] if "删除" in item]
    assert len(removed) == 5
    for label in ("边界事件 “5 个工作日未审核”", "脚本任务 “记录超期”", "结束事件 “超期结束”"):
        assert any(label in item for item in removed), label
    assert all(any(f"<code class=\"small\">{i}</code>" in item for item in removed) for i in OVERDUE_PATH)
    old = manager.get("/modeler/demo_review/diff.json?from=1&to=draft&side=old").get_json()
    assert sorted(old["states"]["removed"]) == sorted(OVERDUE_PATH) and "review_deadline" in old["xml"]
    new = manager.get("/modeler/demo_review/diff.json?from=1&to=draft&side=new").get_json()
    assert "review_deadline" not in new["xml"] and new["states"] == {"added": [], "changed": []}


def test_migration_preview_and_moving_chosen_cases(demo_v1, manager):
    at_submit = runtime.start("demo_review", title="在提交环节", data=START)
    at_review = runtime.start("demo_review", title="在审核环节", data=START)
    stays = runtime.start("demo_review", title="留在旧版", data=START)
    suspended = runtime.start("demo_review", title="已暂停", data=START)
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == at_review.id))
    runtime.complete_task(task.id, {"title": "材料", "amount": "100.00"}, None)
    runtime.suspend(suspended.id, None)
    # v2 renames the review, hands it to the bureau and drops its 5-working-day deadline:
    # a case whose deadline timer is already running cannot move; one not there yet can.
    deploy_v2(manager, without(edited(DEMO), "review_deadline", "mark_overdue", "end_overdue", "f_overdue",
                               "f_overdue_end"))
    v2 = db.session.scalar(db.select(ProcessModelVersion).where(ProcessModelVersion.number == 2))

    preview = manager.get("/modeler/demo_review/versions/1/migrate")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    rows = {r.split('data-instance="')[1].split('"')[0]: r for r in html.split('data-testid="migration-row"')[1:]}
    assert "可以迁移" in rows[str(at_submit.id)] and "可以迁移" in rows[str(stays.id)]
    assert "不能迁移" in rows[str(at_review.id)] and "5 个工作日未审核" in rows[str(at_review.id)]
    assert "不能迁移" in rows[str(suspended.id)] and "suspended" in rows[str(suspended.id)]
    # Nothing moved by looking; nothing moves without a choice.
    assert {i.version_id for i in db.session.scalars(db.select(ProcessInstance))} == {demo_v1.id}
    assert manager.post("/modeler/demo_review/versions/1/migrate", data={}).status_code == 422

    refused = manager.post("/modeler/demo_review/versions/1/migrate", data={"instance_ids": [at_review.id]})
    assert refused.status_code == 422
    moved = manager.post("/modeler/demo_review/versions/1/migrate", data={"instance_ids": [at_submit.id]})
    assert moved.status_code == 302
    assert db.session.get(ProcessInstance, at_submit.id).version_id == v2.id
    assert db.session.get(ProcessInstance, stays.id).version_id == demo_v1.id
    assert db.session.get(ProcessInstance, at_review.id).version_id == demo_v1.id
    assert db.session.scalar(db.select(InstanceEvent.kind).where(InstanceEvent.instance_id == at_submit.id,
                                                                 InstanceEvent.kind == "migrated")) == "migrated"
    # The moved case goes on under v2: its review is the renamed one, in the bureau's lane.
    submit = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == at_submit.id,
                                                          HumanTask.status == "open"))
    runtime.complete_task(submit.id, {"title": "材料", "amount": "100.00"}, None)
    review = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == at_submit.id,
                                                          HumanTask.status == "open"))
    assert (review.name, review.role, review.due_at) == ("审核申报材料", "housing_bureau", None)


def test_a_trial_runs_the_draft_in_the_sandbox_without_touching_cases(demo_v1, manager):
    d = draft_of(manager)
    assert save(manager, edited(d["xml"]), d["lock_version"]).status_code == 200
    bad = manager.post("/modeler/demo_review/trials", data={"payload": "{not json"})
    assert bad.status_code == 422 and "不是有效的 JSON" in bad.get_data(as_text=True)
    started = manager.post("/modeler/demo_review/trials", data={"payload": '{"review_days": 5, "account_no": "A-1"}'})
    assert started.status_code == 302
    url = started.headers["Location"]
    page = manager.get(url).get_data(as_text=True)
    assert "提交材料" in page and "沙箱" in page
    trial = db.session.scalar(db.select(ModelTrial))

    def ready(name):
        from app.services import modeler
        view = modeler.trial_view(db.session.get(ModelTrial, trial.id))
        return next(t for t in view["ready"] if t["name"] == name)

    step = manager.post(url, data={"action": "complete", "target": ready("提交材料")["id"],
                                   "payload": '{"title": "材料", "amount": "100.00"}'})
    assert step.status_code == 302
    assert "审核申报材料" in manager.get(url).get_data(as_text=True)
    manager.post(url, data={"action": "complete", "target": ready("审核申报材料")["id"], "payload": '{"decision": "approve"}'})
    page = manager.get(url).get_data(as_text=True)
    # The service task got a sandbox answer; the case now waits for the confirmation message.
    assert "服务任务（模拟）" in page and "demo.account_balance" in page and "等待确认" in page
    from app.services import modeler
    waiting = modeler.trial_view(db.session.get(ModelTrial, trial.id))["waiting"]
    message = next(w for w in waiting if w["kind"] == "message")
    manager.post(url, data={"action": "message", "target": message["id"], "payload": '{"ok": true}'})
    assert db.session.get(ModelTrial, trial.id).status == "completed"
    assert "流程已结束" in manager.get(url).get_data(as_text=True)
    # Nothing real happened.
    assert db.session.scalar(db.select(db.func.count(ProcessInstance.id))) == 0
    assert db.session.scalar(db.select(db.func.count(HumanTask.id))) == 0
    assert db.session.scalar(db.select(db.func.count(ServiceCall.id))) == 0
    assert manager.post(url, data={"action": "complete", "target": message["id"]}).status_code == 409


def test_a_trial_fires_a_timer_when_asked(demo_v1, manager):
    started = manager.post("/modeler/demo_review/trials", data={"payload": '{"review_days": 5, "account_no": "A-1"}'})
    url = started.headers["Location"]
    from app.services import modeler
    trial = db.session.scalar(db.select(ModelTrial))
    submit = modeler.trial_view(trial)["ready"][0]
    manager.post(url, data={"action": "complete", "target": submit["id"], "payload": '{"title": "t", "amount": "1.00"}'})
    timer = next(w for w in modeler.trial_view(db.session.get(ModelTrial, trial.id))["waiting"] if w["kind"] == "timer")
    manager.post(url, data={"action": "timer", "target": timer["id"]})
    trial = db.session.get(ModelTrial, trial.id)
    assert trial.status == "completed" and modeler.trial_view(trial)["data"].get("outcome") == "overdue"


def test_decision_tables_are_created_and_saved_in_the_draft(demo_v1, manager):
    bad = manager.post("/modeler/demo_review/decisions", data={"filename": "star.txt", "decision_id": "1x", "name": ""})
    assert bad.status_code == 422 and "以 .dmn 结尾" in bad.get_data(as_text=True)
    created = manager.post("/modeler/demo_review/decisions",
                           data={"filename": "star_rating.dmn", "decision_id": "star_rating", "name": "企业星级"})
    assert created.status_code == 302 and created.headers["Location"].endswith("/decisions/star_rating.dmn/edit")
    assert manager.get(created.headers["Location"]).status_code == 200
    d = draft_of(manager)
    assert "企业星级" in d["dmn"]["star_rating.dmn"]
    changed = d["dmn"]["star_rating.dmn"].replace('"A"', '"AAA"')
    saved = manager.post("/modeler/demo_review/draft", json={"dmn": {"star_rating.dmn": changed},
                                                             "lock_version": d["lock_version"]})
    assert saved.status_code == 200 and '"AAA"' in draft_of(manager)["dmn"]["star_rating.dmn"]
    evil = manager.post("/modeler/demo_review/draft", json={"dmn": {"star_rating.dmn": '<!DOCTYPE x [<!ENTITY a "b">]><x/>'},
                                                            "lock_version": saved.get_json()["lock_version"]})
    assert evil.status_code == 422
