"""The emergency_takeover process end to end through the pages: opening, proposal, the
street office head's approval (and who may not approve), the housing center's record, the
enterprise's acceptance, the timer before the period ends, the owners' choice and the
handover checklist; and the refusals the issue names."""
from datetime import datetime

from app.engine import runtime
from app.extensions import db
from app.models import Community, Disclosure, EmergencyTakeover, HumanTask, ProcessInstance
from tests.takeover.conftest import SHANGHAI, act, client_for, open_case, propose, takeover_task


def opened(app, world, community=None):
    staff = client_for(app, world["staff"])
    response = open_case(staff, community or world["community"])
    assert response.status_code == 302, response.get_data(as_text=True)
    takeover_id = db.session.scalar(db.select(EmergencyTakeover.id).order_by(EmergencyTakeover.id.desc()))
    return staff, takeover_id


def approved_and_recorded(app, world, community=None, enterprise=None):
    """Open, propose, approve and record; the chosen enterprise's acceptance is next."""
    staff, takeover_id = opened(app, world, community)
    enterprise = enterprise or world["good"]
    propose(staff, takeover_id, [enterprise, world["rated"]])
    act(client_for(app, world["head"]), takeover_task(takeover_id, "approve"), decision="approve",
        enterprise_id=enterprise.id, comment="同意")
    act(client_for(app, world["center"]), takeover_task(takeover_id, "record"), checked="y", note="已核对")
    return staff, takeover_id


def accepted(app, world, factory, community=None):
    staff, takeover_id = approved_and_recorded(app, world, community)
    enterprise_user = factory.user("enterprise", org=world["good"])
    act(client_for(app, enterprise_user), takeover_task(takeover_id, "accept"), decision="accept",
        site_manager="彭丽", site_phone="13874300001", scope_ack="y")
    return staff, takeover_id


def travel(clock, when):
    clock(when)
    return runtime.advance_due_timers()


def test_a_second_open_takeover_for_the_same_community_is_refused(app, world):
    staff, takeover_id = opened(app, world)
    again = open_case(staff, world["community"])
    assert again.status_code == 422
    assert "该小区已有一件正在办理的应急接管，不能重复发起" in again.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(EmergencyTakeover.id))) == 1
    assert db.session.scalar(db.select(db.func.count(ProcessInstance.id))
                             .where(ProcessInstance.model_key == "emergency_takeover")) == 1


def test_opening_is_for_the_communitys_own_street_office_with_the_situation_recorded(app, world, login_as):
    staff = client_for(app, world["staff"])
    other_street = open_case(staff, world["far"])
    assert other_street.status_code == 422 and "不是有效的选择" in other_street.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(EmergencyTakeover.id))) == 0
    no_situation = open_case(staff, world["community"], situation="")
    assert "请填写小区现状" in no_situation.get_data(as_text=True)
    assert login_as("housing_center").post("/takeovers/new", data={}).status_code == 403
    assert login_as("enterprise").get("/takeovers/new").status_code == 403


def test_a_period_that_ends_before_it_starts_is_refused_and_changes_nothing(app, world):
    staff, takeover_id = opened(app, world)
    backwards = propose(staff, takeover_id, [world["good"]], starts_on="2026-05-31", ends_on="2026-03-03")
    assert "服务期结束日期须晚于开始日期" in backwards.get_data(as_text=True)
    same_day = propose(staff, takeover_id, [world["good"]], starts_on="2026-03-03", ends_on="2026-03-03")
    assert "服务期结束日期须晚于开始日期" in same_day.get_data(as_text=True)
    past = propose(staff, takeover_id, [world["good"]], starts_on="2026-01-01", ends_on="2026-02-28")
    assert "服务期结束日期须晚于今天" in past.get_data(as_text=True)
    t = db.session.get(EmergencyTakeover, takeover_id)
    assert t.starts_on is None and t.candidates == [] and t.status == "proposing"
    assert takeover_task(takeover_id).spec_id == "propose"


def test_only_the_head_of_that_street_office_approves_never_the_proposer(app, world, factory):
    staff, takeover_id = opened(app, world)
    propose(staff, takeover_id, [world["good"], world["rated"]])
    task = takeover_task(takeover_id, "approve")
    assert task.street_office_id == world["street"].id and task.due_at is not None

    other_head = client_for(app, world["other_head"])  # a head, but of another street office
    refused = other_head.post(f"/tasks/{task.id}", data={"action": "complete", "decision": "approve",
                                                          "enterprise_id": world["good"].id})
    assert refused.status_code in (403, 404)
    assert other_head.get(f"/takeovers/{takeover_id}").status_code == 404
    not_head = act(staff, task, decision="approve", enterprise_id=world["good"].id)
    assert "只有本街道办事处负责人可以审批应急接管" in not_head.get_data(as_text=True)
    no_choice = act(client_for(app, world["head"]), task, decision="approve")
    assert "批准时须选定承接的企业" in no_choice.get_data(as_text=True)
    not_candidate = act(client_for(app, world["head"]), task, decision="approve", enterprise_id=world["regular"].id)
    assert "请从符合条件的人选中选定" in not_candidate.get_data(as_text=True)
    assert db.session.get(HumanTask, task.id).status == "open"
    assert db.session.get(EmergencyTakeover, takeover_id).status == "approval"

    # A head who proposed may not approve the own proposal (four eyes).
    staff2, takeover2 = opened(app, world, world["bare"])
    head = client_for(app, world["head"])
    propose(head, takeover2, [world["good"]])
    own = act(head, takeover_task(takeover2, "approve"), decision="approve", enterprise_id=world["good"].id)
    assert "提出人选的人不能同时审批" in own.get_data(as_text=True)


def test_send_back_then_reject_closes_the_takeover_and_frees_the_community(app, world):
    staff, takeover_id = opened(app, world)
    propose(staff, takeover_id, [world["good"]])
    head = client_for(app, world["head"])
    no_comment = act(head, takeover_task(takeover_id, "approve"), decision="send_back")
    assert "退回或不予批准时须填写审批意见" in no_comment.get_data(as_text=True)
    act(head, takeover_task(takeover_id, "approve"), decision="send_back", comment="请增加人选")
    assert takeover_task(takeover_id).spec_id == "propose"
    form = staff.get(f"/tasks/{takeover_task(takeover_id).id}").get_data(as_text=True)
    assert 'value="2026-05-31"' in form  # the earlier proposal is prefilled
    propose(staff, takeover_id, [world["rated"]])
    t = db.session.get(EmergencyTakeover, takeover_id)
    assert {c.enterprise.name: c.status for c in t.candidates} == {"乾元物业": "withdrawn", "德馨物业": "proposed"}
    act(head, takeover_task(takeover_id, "approve"), decision="reject", comment="原企业已同意回场")
    t = db.session.get(EmergencyTakeover, takeover_id)
    assert t.status == "rejected" and t.active_key is None
    assert db.session.get(ProcessInstance, t.instance_id).status == "completed"
    assert open_case(staff, world["community"]).status_code == 302  # a new takeover may be opened now


def test_the_chosen_enterprise_declines_and_the_street_office_proposes_again(app, world, factory):
    staff, takeover_id = approved_and_recorded(app, world)
    t = db.session.get(EmergencyTakeover, takeover_id)
    assert t.status == "acceptance" and t.record_no == f"YJ2026-{t.id:04d}"
    task = takeover_task(takeover_id, "accept")
    assert task.enterprise_id == world["good"].id

    outsider = client_for(app, factory.user("enterprise", org=world["rated"]))
    refused = outsider.post(f"/tasks/{task.id}", data={"action": "complete", "decision": "accept"})
    assert refused.status_code in (403, 404)
    assert outsider.get(f"/takeovers/{takeover_id}").status_code == 404

    chosen = client_for(app, factory.user("enterprise", org=world["good"]))
    assert "世纪华庭" in chosen.get(f"/takeovers/{takeover_id}").get_data(as_text=True)
    no_reason = act(chosen, task, decision="decline")
    assert "请填写不承接的理由" in no_reason.get_data(as_text=True)
    act(chosen, task, decision="decline", decline_reason="人手不足")
    t = db.session.get(EmergencyTakeover, takeover_id)
    assert t.status == "proposing" and t.enterprise_id is None
    assert takeover_task(takeover_id).spec_id == "propose"
    again = propose(staff, takeover_id, [world["good"]])
    assert "乾元物业：已拒绝承接本小区" in again.get_data(as_text=True)


def test_acceptance_starts_the_period_and_the_timer_starts_the_owners_choice_then_the_handover(
        app, world, factory, clock, login_as):
    staff, takeover_id = approved_and_recorded(app, world)
    chosen = client_for(app, factory.user("enterprise", org=world["good"]))
    task = takeover_task(takeover_id, "accept")
    missing = act(chosen, task, decision="accept", site_manager="彭丽", site_phone="12345")
    text = missing.get_data(as_text=True)
    assert "请填写手机号码或带区号的固定电话" in text and "承接前请确认服务期和基本服务范围" in text
    act(chosen, task, decision="accept", site_manager="彭丽", site_phone="13874300001", scope_ack="y")

    t = db.session.get(EmergencyTakeover, takeover_id)
    community = db.session.get(Community, world["community"].id)
    assert t.status == "in_service" and community.enterprise_id == world["good"].id
    assert t.previous_enterprise_id == world["fled"].id
    # 20 working days before 31 May 2026, counting the May Day holiday and the adjusted Saturday 9 May.
    assert t.selection_starts_at == datetime(2026, 4, 30, 9, 0, tzinfo=SHANGHAI)
    assert takeover_task(takeover_id) is None
    notice = db.session.scalar(db.select(Disclosure).where(Disclosure.kind == "takeover"))
    assert "2026-03-03 至 2026-05-31" in notice.body and "公共区域清洁卫生" in notice.body

    # The community page shows the emergency service and its period to those who see it.
    owner = login_as("owner", org=community)
    page = owner.get(f"/communities/{community.id}").get_data(as_text=True)
    assert "应急服务中" in page and "乾元物业" in page and "2026-03-03 — 2026-05-31" in page

    assert travel(clock, datetime(2026, 4, 29, 9, 0, tzinfo=SHANGHAI)) == 0
    assert travel(clock, datetime(2026, 4, 30, 9, 1, tzinfo=SHANGHAI)) == 1
    selection = takeover_task(takeover_id)
    assert selection.spec_id == "select_committee" and selection.community_id == community.id
    assert db.session.get(EmergencyTakeover, takeover_id).status == "selection"

    committee = login_as("owners_committee", org=community.owners_committee)
    stranger = login_as("owners_committee", org=factory.committee(world["bare"]))
    refused = stranger.post(f"/tasks/{selection.id}", data={"action": "complete"})
    assert refused.status_code in (403, 404)
    form = committee.get(f"/tasks/{selection.id}").get_data(as_text=True)
    assert "武陵山物业（推荐）" in form and "高风险物业" not in form and "无备案物业" not in form
    bad = act(committee, selection, decided_by="assembly", regular_enterprise_id=world["listed"].id,
              decision_on="2026-05-06", decision_note="x")
    assert "不是有效的选择" in bad.get_data(as_text=True) and db.session.get(HumanTask, selection.id).status == "open"
    future = act(committee, selection, decided_by="assembly", regular_enterprise_id=world["regular"].id,
                 decision_on="2026-06-01", decision_note="x")
    assert "决定日期不能晚于今天" in future.get_data(as_text=True)
    act(committee, selection, decided_by="assembly", regular_enterprise_id=world["regular"].id,
        decision_on="2026-04-30", decision_note="参加表决业主 412 户，同意 356 户，占专有部分面积 83%。")
    t = db.session.get(EmergencyTakeover, takeover_id)
    assert t.status == "handover" and t.regular_enterprise_id == world["regular"].id

    handover = takeover_task(takeover_id, "handover")
    assert handover.street_office_id == world["street"].id and handover.due_at is not None
    incomplete = act(staff, handover, handover_on="2026-05-06", keys="y", documents="y", device_accounts="y")
    assert "资金监管账户未移交，不能完成交接" in incomplete.get_data(as_text=True)
    early = act(staff, handover, handover_on="2026-04-29", keys="y", documents="y", device_accounts="y",
                escrow_account="y")
    assert "交接日期不能早于业主决定日期" in early.get_data(as_text=True)
    assert db.session.get(EmergencyTakeover, takeover_id).status == "handover"
    act(staff, handover, handover_on="2026-04-30", keys="y", keys_note="门岗、设备房钥匙 36 把", documents="y",
        documents_note="竣工图纸、业主档案", device_accounts="y", device_accounts_note="门禁、梯控管理员账号已改密",
        escrow_account="y", escrow_account_note="监管账户收款人变更已报住保中心")

    t = db.session.get(EmergencyTakeover, takeover_id)
    community = db.session.get(Community, world["community"].id)
    assert t.status == "handed_over" and t.active_key is None and community.enterprise_id == world["regular"].id
    assert set(t.handover_items) == {"keys", "documents", "device_accounts", "escrow_account"}
    assert db.session.get(ProcessInstance, t.instance_id).status == "completed"
    page = owner.get(f"/communities/{community.id}").get_data(as_text=True)
    assert "已移交业主选定的物业服务企业 武陵山物业" in page
    detail = login_as("housing_center").get(f"/takeovers/{takeover_id}").get_data(as_text=True)
    assert "门岗、设备房钥匙 36 把" in detail and "业主大会决定" in detail


def test_without_an_owners_committee_the_street_office_organises_the_assembly_and_is_chased_at_period_end(
        app, world, factory, clock):
    staff, takeover_id = accepted(app, world, factory, world["bare"])
    assert travel(clock, datetime(2026, 4, 30, 9, 1, tzinfo=SHANGHAI)) == 1
    selection = takeover_task(takeover_id)
    assert selection.spec_id == "select_assembly" and selection.role == "street_office"
    assert selection.due_at == datetime(2026, 5, 31, 23, 59, 59, tzinfo=SHANGHAI)

    assert travel(clock, datetime(2026, 6, 1, 0, 0, 1, tzinfo=SHANGHAI)) == 1
    chase = takeover_task(takeover_id, "esc_overdue")
    assert chase.role == "housing_center"
    assert takeover_task(takeover_id, "select_assembly").id == selection.id  # still open: non-interrupting
    center = client_for(app, world["center"])
    rows = center.get("/takeovers/").get_data(as_text=True)
    assert "峒河湾" in rows and "已届满 1 天" in rows
    act(center, chase, note="请街道于 6 月 10 日前组织业主大会")
    act(staff, selection, decided_by="assembly", regular_enterprise_id=world["regular"].id,
        decision_on="2026-06-01", decision_note="业主大会表决通过")
    assert takeover_task(takeover_id).spec_id == "handover"


def test_the_housing_center_sees_all_takeovers_with_deadlines_and_a_street_office_only_its_own(
        app, world, factory, login_as):
    accepted(app, world, factory)
    staff_dh = factory.user("street_office", org=world["other_street"], username="dh_staff")
    dh = client_for(app, staff_dh)
    assert open_case(dh, world["far"]).status_code == 302

    center = client_for(app, world["center"])
    page = center.get("/takeovers/").get_data(as_text=True)
    assert "世纪华庭" in page and "民族花园" in page
    assert "启动选聘 2026-04-30 09:00" in page  # the in-service takeover's next deadline
    assert "提出应急服务企业人选和服务期" in page  # the other one waits for a proposal, with its due time
    qz = client_for(app, world["staff"]).get("/takeovers/").get_data(as_text=True)
    assert "世纪华庭" in qz and "民族花园" not in qz
    assert "民族花园" not in client_for(app, factory.user("enterprise", org=world["good"])).get(
        "/takeovers/").get_data(as_text=True)
    assert login_as("owner").get("/takeovers/").status_code == 403
    assert center.get("/takeovers/?status=in_service").get_data(as_text=True).count('data-testid="takeover-row"') == 1
