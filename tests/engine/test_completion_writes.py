"""What a completion writes, seen by those it concerns: on PostgreSQL it is one statement
(the completed task, the case, its timeline, the new inbox rows and their notifications,
`app/engine/combined.py`), on SQLite one statement each; either way the same rows.

A completion that opens two tasks in two lanes tells each lane's users of their own task,
with a link to it; the timeline keeps the order things happened in; an inline operator
running right after the task reads what the task decided; each kind of audience (a role of
the case's community's owners' committee, its owners, the one user a task is assigned to, an
organisation the case does not have: nobody) is told of its task and no one else; and a case
whose lock version moved meanwhile writes nothing and answers a conflict."""
import pytest
import sqlalchemy as sa

from app.engine import registry, runtime
from app.engine.deploy import deploy
from app.extensions import db
from app.models import Enterprise, HumanTask, InstanceEvent, Notification, ProcessInstance
from app.services.errors import Conflict
from tests.conftest import PASSWORD

FORM = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formKey" '
        'value="demo.SubmitForm" /></spiffworkflow:properties></bpmn:extensionElements>')
SIGNOFF = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="http://wuye.example/bpmn">
<bpmn:process id="signoff_after_check" name="核查后会签" isExecutable="true"><bpmn:laneSet id="ls">
<bpmn:lane id="lane_center" name="住保中心"><bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>submit</bpmn:flowNodeRef>
<bpmn:flowNodeRef>check</bpmn:flowNodeRef><bpmn:flowNodeRef>split</bpmn:flowNodeRef><bpmn:flowNodeRef>center_ok</bpmn:flowNodeRef>
<bpmn:flowNodeRef>join</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>
<bpmn:lane id="lane_enterprise" name="物业服务企业"><bpmn:flowNodeRef>enterprise_ok</bpmn:flowNodeRef></bpmn:lane>
</bpmn:laneSet>
<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="submit" name="提交材料">{FORM}<bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>
<bpmn:serviceTask id="check" name="核查材料"><bpmn:extensionElements>
<spiffworkflow:serviceTaskOperator id="test.read_submission" resultVariable="checked"><spiffworkflow:parameters />
</spiffworkflow:serviceTaskOperator></bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
<bpmn:parallelGateway id="split"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing></bpmn:parallelGateway>
<bpmn:userTask id="enterprise_ok" name="企业确认">{FORM}<bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
<bpmn:userTask id="center_ok" name="中心确认">{FORM}<bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:userTask>
<bpmn:parallelGateway id="join"><bpmn:incoming>f5</bpmn:incoming><bpmn:incoming>f6</bpmn:incoming><bpmn:outgoing>f7</bpmn:outgoing></bpmn:parallelGateway>
<bpmn:endEvent id="end"><bpmn:incoming>f7</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="submit" />
<bpmn:sequenceFlow id="f1" sourceRef="submit" targetRef="check" />
<bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="split" />
<bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="enterprise_ok" />
<bpmn:sequenceFlow id="f4" sourceRef="split" targetRef="center_ok" />
<bpmn:sequenceFlow id="f5" sourceRef="enterprise_ok" targetRef="join" />
<bpmn:sequenceFlow id="f6" sourceRef="center_ok" targetRef="join" />
<bpmn:sequenceFlow id="f7" sourceRef="join" targetRef="end" />
</bpmn:process></bpmn:definitions>
"""


@pytest.fixture
def seen_by_the_check(app, monkeypatch):
    """The inline operator after 提交材料: what it reads of that task from the database (a
    statement of its own, not the session's copy of the row)."""
    seen = []

    def read_submission(ctx):
        status, data = db.session.execute(sa.select(HumanTask.status, HumanTask.completed_data).where(
            HumanTask.instance_id == ctx.instance_id, HumanTask.spec_id == "submit")).one()
        seen.append((status, data))
        return {"amount_seen": (data or {}).get("amount")}

    monkeypatch.setitem(registry.OPERATORS, "test.read_submission",
                        registry.Operator("test.read_submission", read_submission, "核查材料", {}))
    deploy("signoff_after_check", SIGNOFF)
    return seen


def task_named(instance_id, name):
    return db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.name == name))


def timeline(client, headers, instance_id):
    shown = client.get(f"/api/v1/instances/{instance_id}", headers=headers).get_json()
    return [(event["kind"], event["task"]) for event in shown["timeline"]]


def test_a_completion_opening_two_tasks_tells_each_lane_of_its_own(app, factory, api_client, seen_by_the_check):
    enterprise = factory.enterprise()
    ent_user = factory.user("enterprise", org=enterprise)
    other_enterprise_user = factory.user("enterprise", org=factory.enterprise())
    center, center_h = api_client("housing_center")
    instance = runtime.start("signoff_after_check", title="核查后会签", orgs={"enterprise_id": enterprise.id})
    submit_id = task_named(instance.id, "提交材料").id
    db.session.commit()

    done = center.post(f"/api/v1/tasks/{submit_id}/complete", headers=center_h, json={"title": "材料", "amount": "1200"})
    assert done.status_code == 200, done.get_json()
    assert {task["name"] for task in done.get_json()["open_tasks"]} == {"企业确认", "中心确认"}
    [(status, data)] = seen_by_the_check
    assert (status, data["amount"]) == ("completed", "1200")  # what the user had just decided

    db.session.expire_all()
    enterprise_task, center_task = task_named(instance.id, "企业确认"), task_named(instance.id, "中心确认")
    submitted = db.session.get(HumanTask, submit_id)
    assert (submitted.status, submitted.completed_by_id, submitted.completed_data["amount"]) == (
        "completed", center.user.id, "1200")

    def told(user):
        return [(n.title, n.data) for n in db.session.scalars(db.select(Notification).where(
            Notification.user_id == user.id, Notification.kind == "task").order_by(Notification.id))]

    assert told(ent_user) == [("新任务：企业确认", {"task_id": enterprise_task.id, "instance_id": instance.id})]
    assert told(center.user) == [("新任务：提交材料", {"task_id": submit_id, "instance_id": instance.id}),
                                 ("新任务：中心确认", {"task_id": center_task.id, "instance_id": instance.id})]
    assert told(other_enterprise_user) == []  # another enterprise's user is not told of this case
    page = app.test_client()
    assert page.post("/login", data={"username": ent_user.username, "password": PASSWORD}).status_code == 302
    assert f'href="/tasks/{enterprise_task.id}"' in page.get("/notifications").get_data(as_text=True)

    ent, ent_h = api_client("enterprise", org=db.session.get(Enterprise, enterprise.id))
    for client, headers, task in ((ent, ent_h, enterprise_task), (center, center_h, center_task)):
        answer = client.post(f"/api/v1/tasks/{task.id}/complete", headers=headers, json={"title": "确认", "amount": "1"})
        assert answer.status_code == 200, answer.get_json()
    assert timeline(center, center_h, instance.id) == [
        ("started", ""), ("task_completed", "提交材料"), ("task_completed", "企业确认"), ("task_completed", "中心确认"),
        ("completed", "")]
    db.session.expire_all()
    assert db.session.get(ProcessInstance, instance.id).status == "completed"


def test_a_case_whose_lock_version_moved_writes_nothing(app, factory, seen_by_the_check, monkeypatch):
    """The case is locked while it is advanced, so only a writer that skipped the lock could
    move its version; the versioned write still refuses then, and nothing of the completion
    is left: the task stays open, no timeline row, no new task, no notification."""
    user = factory.user("housing_center")
    instance = runtime.start("signoff_after_check", title="版本", orgs={"enterprise_id": factory.enterprise().id})
    submit_id = task_named(instance.id, "提交材料").id
    db.session.commit()
    load = runtime._load

    def load_then_move_the_version(row):
        table = ProcessInstance.__table__  # behind the session's back: its copy keeps the old version
        db.session.execute(table.update().where(table.c.id == row.id).values(lock_version=table.c.lock_version + 1))
        return load(row)

    monkeypatch.setattr(runtime, "_load", load_then_move_the_version)
    with pytest.raises(Conflict):
        runtime.complete_task(submit_id, {"title": "材料", "amount": "1"}, user)
    monkeypatch.setattr(runtime, "_load", load)

    db.session.expire_all()
    assert db.session.get(HumanTask, submit_id).status == "open"
    assert [e.kind for e in db.session.scalars(db.select(InstanceEvent).where(
        InstanceEvent.instance_id == instance.id))] == ["started"]
    assert db.session.scalar(db.select(sa.func.count(HumanTask.id)).where(HumanTask.instance_id == instance.id)) == 1
    assert db.session.scalar(db.select(sa.func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.kind == "task")) == 1  # of 提交材料, from the start

    runtime.complete_task(submit_id, {"title": "材料", "amount": "1"}, user)  # the next attempt goes through
    db.session.expire_all()
    assert db.session.get(HumanTask, submit_id).status == "completed"
    assert {t.name for t in db.session.scalars(db.select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "open"))} == {"企业确认", "中心确认"}


AUDIENCES = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="http://wuye.example/bpmn">
<bpmn:process id="told_by_audience" name="分送" isExecutable="true"><bpmn:laneSet id="ls">
<bpmn:lane id="lane_center" name="住保中心"><bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>submit</bpmn:flowNodeRef>
<bpmn:flowNodeRef>split</bpmn:flowNodeRef><bpmn:flowNodeRef>assigned</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>
<bpmn:lane id="lane_committee" name="业主委员会"><bpmn:flowNodeRef>committee</bpmn:flowNodeRef></bpmn:lane>
<bpmn:lane id="lane_owner" name="业主"><bpmn:flowNodeRef>owners</bpmn:flowNodeRef></bpmn:lane>
<bpmn:lane id="lane_supplier" name="device_supplier"><bpmn:flowNodeRef>supplier</bpmn:flowNodeRef></bpmn:lane>
</bpmn:laneSet>
<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="submit" name="提交材料">{FORM}<bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>
<bpmn:parallelGateway id="split"><bpmn:incoming>f1</bpmn:incoming>
<bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing><bpmn:outgoing>f5</bpmn:outgoing></bpmn:parallelGateway>
<bpmn:userTask id="committee" name="业委会意见">{FORM}<bpmn:incoming>f2</bpmn:incoming></bpmn:userTask>
<bpmn:userTask id="owners" name="业主意见">{FORM}<bpmn:incoming>f3</bpmn:incoming></bpmn:userTask>
<bpmn:userTask id="assigned" name="专人复核"><bpmn:extensionElements><spiffworkflow:properties>
<spiffworkflow:property name="formKey" value="demo.SubmitForm" /><spiffworkflow:property name="assignee" value="test.reviewer" />
</spiffworkflow:properties></bpmn:extensionElements><bpmn:incoming>f4</bpmn:incoming></bpmn:userTask>
<bpmn:userTask id="supplier" name="设备商意见">{FORM}<bpmn:incoming>f5</bpmn:incoming></bpmn:userTask>
<bpmn:endEvent id="end" />
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="submit" />
<bpmn:sequenceFlow id="f1" sourceRef="submit" targetRef="split" />
<bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="committee" />
<bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="owners" />
<bpmn:sequenceFlow id="f4" sourceRef="split" targetRef="assigned" />
<bpmn:sequenceFlow id="f5" sourceRef="split" targetRef="supplier" />
</bpmn:process></bpmn:definitions>
"""


def test_each_audience_is_told_of_its_own_task_and_nobody_else(app, factory, monkeypatch):
    community, elsewhere = factory.community(), factory.community()
    committee_member = factory.user("owners_committee", org=factory.committee(community))
    other_committee = factory.user("owners_committee", org=factory.committee(elsewhere))
    owner, other_owner = factory.user("owner", org=community), factory.user("owner", org=elsewhere)
    reviewer, other_center = factory.user("housing_center"), factory.user("housing_center")
    supplier_user = factory.user("device_supplier")
    left_out = factory.user("owner", org=community)
    left_out.active = False
    db.session.commit()
    monkeypatch.setitem(registry.ASSIGNERS, "test.reviewer", (lambda instance: reviewer.id, "复核人"))
    deploy("told_by_audience", AUDIENCES)
    instance = runtime.start("told_by_audience", title="分送", orgs={"community_id": community.id})
    runtime.complete_task(task_named(instance.id, "提交材料").id, {"title": "材料", "amount": "1"}, other_center)

    def told(user):
        return [n.title for n in db.session.scalars(db.select(Notification).where(
            Notification.user_id == user.id, Notification.kind == "task").order_by(Notification.id))]

    assert told(committee_member) == ["新任务：业委会意见"] and told(other_committee) == []
    assert told(owner) == ["新任务：业主意见"] and told(other_owner) == [] and told(left_out) == []
    assert told(reviewer) == ["新任务：提交材料", "新任务：专人复核"]  # assigned to them alone
    assert told(other_center) == ["新任务：提交材料"]
    assert told(supplier_user) == []  # the case has no device supplier: nobody of one may act
    assert task_named(instance.id, "设备商意见").status == "open"
    assert task_named(instance.id, "专人复核").claimed_by_id == reviewer.id
