"""A completion takes the case's row lock before it writes anything, in the order the timer
job takes it (the case first, then its inbox rows): a completion at the moment the timer job
closes the same task gets a clear 409, not a deadlock; a completion at the moment a colleague
claims the task is refused (who may act is checked under the lock), and of two claims at
once one is refused; two people completing the two branches
of a parallel split at the same moment both succeed, one after the other; a message, a
supervisor's suspend or terminate, and an external call's incident wait and go through. The
lock is NO KEY UPDATE: a comment on the case is not held up by it."""
import threading
import time

import pytest
import requests
import sqlalchemy as sa

from app.engine import runtime
from app.engine.deploy import deploy
from app.extensions import db
from app.integrations.bank import BankClient
from app.models import Enterprise, HumanTask, InstanceEvent, ProcessInstance, ServiceCall
from tests.engine.test_engine_behaviour import open_task, start_demo
from tests.engine.test_timer_claims import due_instance, fired

pytestmark = pytest.mark.postgres_only  # row locks and pg_stat_activity

PARALLEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="http://wuye.example/bpmn">
<bpmn:collaboration id="c"><bpmn:participant id="p" name="并行会签" processRef="parallel_signoff" /></bpmn:collaboration>
<bpmn:process id="parallel_signoff" name="并行会签" isExecutable="true"><bpmn:laneSet id="ls">
<bpmn:lane id="lane_a" name="物业服务企业"><bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>split</bpmn:flowNodeRef>
<bpmn:flowNodeRef>left</bpmn:flowNodeRef><bpmn:flowNodeRef>join</bpmn:flowNodeRef><bpmn:flowNodeRef>after</bpmn:flowNodeRef>
<bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>
<bpmn:lane id="lane_b" name="住保中心"><bpmn:flowNodeRef>right</bpmn:flowNodeRef></bpmn:lane>
</bpmn:laneSet>
<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:parallelGateway id="split"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing><bpmn:outgoing>f2</bpmn:outgoing></bpmn:parallelGateway>
<bpmn:userTask id="left" name="企业确认"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formKey" value="demo.SubmitForm" /></spiffworkflow:properties></bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
<bpmn:userTask id="right" name="中心确认"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formKey" value="demo.SubmitForm" /></spiffworkflow:properties></bpmn:extensionElements><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
<bpmn:parallelGateway id="join"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:parallelGateway>
<bpmn:userTask id="after" name="归档"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formKey" value="demo.SubmitForm" /></spiffworkflow:properties></bpmn:extensionElements><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="split" />
<bpmn:sequenceFlow id="f1" sourceRef="split" targetRef="left" />
<bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="right" />
<bpmn:sequenceFlow id="f3" sourceRef="left" targetRef="join" />
<bpmn:sequenceFlow id="f4" sourceRef="right" targetRef="join" />
<bpmn:sequenceFlow id="f5" sourceRef="join" targetRef="after" />
<bpmn:sequenceFlow id="f6" sourceRef="after" targetRef="end" />
</bpmn:process></bpmn:definitions>
"""


def waiting_for_locks(count: int, answers: list) -> None:
    """Until `count` of this database's sessions wait for a row lock (the requests have got
    as far as they can while the case is held)."""
    query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")
    for _ in range(400):
        # A transaction of its own each time: within one, pg_stat_activity stays as first read.
        with db.engine.connect() as conn:
            if conn.scalar(query) >= count:
                return
        time.sleep(0.05)
    raise AssertionError(f"{count} requests never came to wait for the case's lock: {answers}")


def post_in_threads(posts: list) -> tuple[list, list]:
    """Each (client, headers, url, body) POSTed from its own thread, started now: (the threads,
    their answers in order, filled in as they end)."""
    answers = [None] * len(posts)

    def post(i, client, headers, url, body):
        response = client.post(url, headers=headers, json=body)
        answers[i] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=post, args=(i, *p)) for i, p in enumerate(posts)]
    for t in threads:
        t.start()
    return threads, answers


def case_in_review(factory) -> tuple:
    """A demo case whose submission is in: (the case, its open 审核材料 task's id)."""
    instance = start_demo(factory)
    runtime.complete_task(open_task(instance.id, "提交材料").id, {"title": "t", "amount": "1"},
                          factory.user("enterprise"))
    review_id = open_task(instance.id, "审核材料").id
    db.session.commit()
    return instance, review_id


def completion_while(instance_id: int, review_id: int, client, headers, change: str, params: dict) -> tuple:
    """POST the review's completion while someone else holds the case's row (as the timer
    batch does, the case first, then its inbox rows), and makes `change` in that transaction
    once the completion waits for the case: the completion's (status, body)."""
    with db.engine.connect() as other:
        other.begin()
        other.execute(sa.text("SELECT id FROM process_instance WHERE id = :i FOR UPDATE"), {"i": instance_id})
        threads, answers = post_in_threads([(client, headers, f"/api/v1/tasks/{review_id}/complete",
                                             {"decision": "approve"})])
        waiting_for_locks(1, answers)
        other.execute(sa.text(change), params)
        other.commit()
    threads[0].join()
    return answers[0]


def completions(instance_id: int) -> int:
    return db.session.scalar(db.select(db.func.count(InstanceEvent.id)).where(
        InstanceEvent.instance_id == instance_id, InstanceEvent.kind == "task_completed"))


def refused_over_the_claim(status: int, body: dict, instance_id: int, review_id: int, colleague_id: int) -> None:
    """The completion was told the colleague has the task, and changed nothing."""
    assert status == 409 and "已由" in body["message"] and "签收" in body["message"], body
    db.session.expire_all()
    review = db.session.get(HumanTask, review_id)
    assert (review.status, review.claimed_by_id, review.completed_by_id) == ("open", colleague_id, None)
    assert completions(instance_id) == 1  # the submission only


def one_claimed_one_refused(answers: list, instance_id: int, review_id: int) -> None:
    """Of the two claims' answers, one has the task and the other was told who has it."""
    assert sorted(status for status, _ in answers) == [200, 409], answers
    winner = next(body["claimed_by"] for status, body in answers if status == 200)
    refused = next(body["message"] for status, body in answers if status == 409)
    assert "已由" in refused and "签收" in refused
    db.session.expire_all()
    assert db.session.get(HumanTask, review_id).claimed_by.username == winner
    assert db.session.scalar(db.select(db.func.count(InstanceEvent.id)).where(
        InstanceEvent.instance_id == instance_id, InstanceEvent.kind == "task_claimed")) == 1


def test_a_completion_while_the_timer_job_closes_the_task_is_a_clear_conflict(deployed, factory, api_client):
    instance, review_id = case_in_review(factory)
    client, headers = api_client("housing_center")
    status, body = completion_while(  # a deadlock here, before: the completion held the task's row
        instance.id, review_id, client, headers,
        "UPDATE human_task SET status = 'cancelled' WHERE id = :t AND status = 'open'", {"t": review_id})
    assert status == 409 and "已因期限届满或流程变化而关闭" in body["message"]
    db.session.expire_all()
    assert db.session.get(HumanTask, review_id).completed_by_id is None
    assert completions(instance.id) == 1  # the submission only


def test_a_completion_while_a_colleague_claims_the_task_is_refused(deployed, factory, api_client):
    instance, review_id = case_in_review(factory)
    colleague = factory.user("housing_center", username="colleague_li")
    db.session.commit()
    client, headers = api_client("housing_center")
    status, body = completion_while(  # the colleague's claim, committed while the completion waits
        instance.id, review_id, client, headers,
        "UPDATE human_task SET claimed_by_id = :u, claimed_at = now() WHERE id = :t",
        {"u": colleague.id, "t": review_id})
    refused_over_the_claim(status, body, instance.id, review_id, colleague.id)


def test_of_two_claims_at_the_same_moment_one_is_refused(deployed, factory, api_client):
    instance, review_id = case_in_review(factory)
    (wang, wang_h), (zhao, zhao_h) = api_client("housing_center"), api_client("housing_center")
    with db.engine.connect() as holder:  # the task's row held for a moment, so that both claims meet
        holder.begin()
        holder.execute(sa.text("SELECT id FROM human_task WHERE id = :t FOR UPDATE"), {"t": review_id})
        threads, answers = post_in_threads([(wang, wang_h, f"/api/v1/tasks/{review_id}/claim", {}),
                                            (zhao, zhao_h, f"/api/v1/tasks/{review_id}/claim", {})])
        waiting_for_locks(2, answers)
        holder.rollback()
    for thread in threads:
        thread.join()
    one_claimed_one_refused(answers, instance.id, review_id)


def test_both_branches_of_a_parallel_split_completed_at_once_both_succeed(app, factory, api_client):
    deploy("parallel_signoff", PARALLEL)
    enterprise = factory.enterprise()
    instance = runtime.start("parallel_signoff", title="并行", orgs={"enterprise_id": enterprise.id})
    left, right = open_task(instance.id, "企业确认").id, open_task(instance.id, "中心确认").id
    db.session.commit()
    org = db.session.get(Enterprise, enterprise.id)
    ent, ent_h = api_client("enterprise", org=org)
    center, center_h = api_client("housing_center")
    body = {"title": "确认", "amount": "1"}
    with db.engine.connect() as holder:  # the case is being saved by someone else for a moment
        holder.begin()
        holder.execute(sa.text("SELECT id FROM process_instance WHERE id = :i FOR UPDATE"), {"i": instance.id})
        threads, answers = post_in_threads([(ent, ent_h, f"/api/v1/tasks/{left}/complete", body),
                                            (center, center_h, f"/api/v1/tasks/{right}/complete", body)])
        waiting_for_locks(2, answers)
        holder.rollback()
    for t in threads:
        t.join()
    assert [status for status, _body in answers] == [200, 200], answers
    db.session.expire_all()
    assert {db.session.get(HumanTask, i).status for i in (left, right)} == {"completed"}
    archive = open_task(instance.id, "归档")
    assert archive is not None  # the join saw both branches
    assert db.session.scalar(db.select(db.func.count(HumanTask.id)).where(
        HumanTask.instance_id == instance.id, HumanTask.spec_id == "after")) == 1
    assert db.session.get(ProcessInstance, instance.id).status == "running"


WAITS_FOR_A_MESSAGE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="http://wuye.example/bpmn">
<bpmn:collaboration id="c"><bpmn:participant id="p" name="等待确认" processRef="await_confirmation" /></bpmn:collaboration>
<bpmn:message id="msg" name="demo.confirmed" />
<bpmn:process id="await_confirmation" name="等待确认" isExecutable="true"><bpmn:laneSet id="ls">
<bpmn:lane id="lane_a" name="住保中心"><bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>wait</bpmn:flowNodeRef>
<bpmn:flowNodeRef>after</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>
</bpmn:laneSet>
<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:intermediateCatchEvent id="wait" name="等待确认"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
<bpmn:messageEventDefinition id="wait_msg" messageRef="msg" /></bpmn:intermediateCatchEvent>
<bpmn:userTask id="after" name="确认后办理"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formKey" value="demo.SubmitForm" /></spiffworkflow:properties></bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="wait" />
<bpmn:sequenceFlow id="f1" sourceRef="wait" targetRef="after" />
<bpmn:sequenceFlow id="f2" sourceRef="after" targetRef="end" />
</bpmn:process></bpmn:definitions>
"""


def test_a_message_arriving_while_the_case_is_being_saved_waits_and_is_delivered(app, factory):
    deploy("await_confirmation", WAITS_FOR_A_MESSAGE)
    instance = runtime.start("await_confirmation", business_key="BANK-42", title="等待")
    db.session.commit()
    answers = []

    def deliver():
        with app.app_context():  # the bank's callback, in a request of its own
            try:
                answers.append(runtime.deliver_message("demo.confirmed", "BANK-42", {"ok": True}))
            except Exception as e:  # noqa: BLE001 (the assertion below shows it)
                answers.append(e)

    with db.engine.connect() as saver:  # someone else saving the case (a new lock version) just now
        saver.begin()
        saver.execute(sa.text("UPDATE process_instance SET lock_version = lock_version + 1 WHERE id = :i"),
                      {"i": instance.id})
        thread = threading.Thread(target=deliver)
        thread.start()
        waiting_for_locks(1, answers)
        saver.commit()
    thread.join()
    assert answers == [{"status": "delivered", "instance_id": instance.id}]
    db.session.expire_all()
    assert open_task(instance.id, "确认后办理") is not None


def held_while(instance_id: int, run) -> list:
    """`run()` while someone else is saving the case (a new lock version, not yet committed):
    what it answered, once the other save has committed."""
    answers = []
    with db.engine.connect() as saver:
        saver.begin()
        saver.execute(sa.text("UPDATE process_instance SET lock_version = lock_version + 1 WHERE id = :i"),
                      {"i": instance_id})
        thread = threading.Thread(target=lambda: answers.append(run()))
        thread.start()
        waiting_for_locks(1, answers)
        saver.commit()
    thread.join()
    return answers


@pytest.mark.parametrize("action, status", [("suspend", "suspended"), ("terminate", "terminated")])
def test_a_supervisor_suspending_or_terminating_while_the_case_is_being_saved_waits_and_succeeds(
        deployed, factory, api_client, action, status):
    instance = start_demo(factory)
    db.session.commit()
    client, headers = api_client("housing_center")
    [(code, body)] = held_while(instance.id, lambda: (lambda r: (r.status_code, r.get_json()))(client.post(
        f"/api/v1/instances/{instance.id}/{action}", headers=headers, json={"reason": "整改期间暂停办理"})))
    assert code == 200 and body["status"] == status, body  # before: 409 "该案件已被他人更新"
    db.session.expire_all()
    assert db.session.get(ProcessInstance, instance.id).status == status
    if action == "terminate":
        assert open_task(instance.id, "提交材料") is None  # the open task was closed with the case


def test_moving_a_case_to_a_new_version_while_it_is_being_saved_waits_and_succeeds(app, deployed, factory):
    from app.engine import migration
    from tests.engine.conftest import BPMN_DIR
    instance = start_demo(factory)
    v2, _created = deploy("demo_review", (BPMN_DIR / "demo_review.bpmn").read_text(encoding="utf-8")
                .replace('name="审核材料"', 'name="审核申报材料"'))
    db.session.commit()

    def move():
        with app.app_context():
            try:
                return migration.migrate(instance.id, db.session.merge(v2), None).version.number
            except Exception as e:  # noqa: BLE001 (the assertion below shows it)
                return e

    assert held_while(instance.id, move) == [v2.number]  # before: 409 "该案件已被他人更新"
    db.session.expire_all()
    assert db.session.get(ProcessInstance, instance.id).version_id == v2.id


def test_an_external_calls_last_failure_while_the_case_is_being_saved_still_shows_the_incident(
        app, deployed, bank_sandbox, factory):
    bank = BankClient(bank_sandbox.base_url, app.config["BANK_KEY_ID"], app.config["BANK_SECRET"])
    account_no = bank.open_account("c-11", "监管账户")["account_no"]
    requests.post(f"{bank_sandbox.base_url}/_control/down", timeout=5)
    app.config["ENGINE_RETRY_BASE_SECONDS"] = 0
    instance = start_demo(factory, account_no=account_no)
    runtime.complete_task(open_task(instance.id, "提交材料").id, {"title": "t", "amount": "100"},
                          factory.user("enterprise"))
    runtime.complete_task(open_task(instance.id, "审核材料").id, {"decision": "approve"}, factory.user("housing_center"))
    call = db.session.scalar(db.select(ServiceCall).where(ServiceCall.instance_id == instance.id))
    call.status, call.attempts = "pending", call.max_attempts - 1  # its last attempt is due
    case = db.session.get(ProcessInstance, instance.id)
    case.status, case.incident = "waiting", None
    db.session.commit()

    def last_attempt():
        with app.app_context():  # the worker's job, in a session of its own
            try:
                return runtime.run_service_call(call.id)
            except Exception as e:  # noqa: BLE001 (the assertion below shows it)
                return e

    assert held_while(instance.id, last_attempt) == [None]  # before: StaleDataError, the call left 'running'
    db.session.expire_all()
    assert db.session.get(ServiceCall, call.id).status == "failed"
    case = db.session.get(ProcessInstance, instance.id)
    assert case.status == "error" and "503" in case.incident


def test_a_comment_is_not_held_up_while_the_timer_job_advances_the_case(app, deployed, factory, api_client, clock,
                                                                        monkeypatch):
    instance_id = due_instance(factory, clock)
    db.session.commit()
    paused, go = threading.Event(), threading.Event()
    step = runtime._step

    def step_then_pause(instance, wf):  # the timer job stops mid-transaction, the case locked
        step(instance, wf)
        paused.set()
        go.wait(30)

    monkeypatch.setattr(runtime, "_step", step_then_pause)
    advanced = []

    def timer_job():
        with app.app_context():
            advanced.append(runtime.advance_due_timers())

    job = threading.Thread(target=timer_job)
    job.start()
    try:
        assert paused.wait(30)
        client, headers = api_client("housing_center")
        threads, answers = post_in_threads([(client, headers, f"/api/v1/instances/{instance_id}/comments",
                                             {"body": "请尽快处理"})])
        threads[0].join(10)
        assert answers[0] is not None, "the comment waited for the timer job"
        status, body = answers[0]
        assert status == 201 and body["body"] == "请尽快处理"
    finally:
        go.set()
        job.join()
    assert advanced == [1] and fired(instance_id) == 1
