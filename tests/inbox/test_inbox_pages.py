"""The inbox and task pages through the browser-facing routes (Flask client)."""
import io
import re
from datetime import datetime, timedelta, timezone

import pytest

from app.engine import runtime
from app.engine.deploy import deploy_directory
from app.extensions import db
from app.models import Attachment, HumanTask, InstanceEvent
from tests.engine.conftest import BPMN_DIR


@pytest.fixture
def case(app, factory):
    deploy_directory(BPMN_DIR)
    enterprise = factory.enterprise(name="甲物业")
    community = factory.community(enterprise=enterprise, name="甲小区")
    instance = runtime.start("demo_review", business_key="c-1", title="甲物业 · 甲小区年度材料",
                             data={"review_days": 5, "account_no": "0"},
                             orgs={"enterprise_id": enterprise.id, "community_id": community.id,
                                   "street_office_id": community.street_office_id})
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id))
    return {"instance": instance, "task": task, "enterprise": enterprise, "community": community}


def event_count(instance_id) -> int:
    return db.session.scalar(db.select(db.func.count(InstanceEvent.id)).where(InstanceEvent.instance_id == instance_id))


def test_enterprise_sees_its_task_in_the_inbox_with_case_title(login_as, case):
    client = login_as("enterprise", org=case["enterprise"])
    body = client.get("/inbox").get_data(as_text=True)
    assert "甲物业 · 甲小区年度材料" in body and "提交材料" in body
    assert re.search(r'data-testid="tab-todo">\s*待办 <span class="badge bg-secondary">1</span>', body)
    other = login_as("enterprise")
    assert "甲物业 · 甲小区年度材料" not in other.get("/inbox").get_data(as_text=True)
    assert other.get(f"/tasks/{case['task'].id}").status_code == 404


def test_filters_search_and_sort_are_in_the_url(login_as, case, factory):
    client = login_as("enterprise", org=case["enterprise"])
    assert "提交材料" in client.get(f"/inbox?enterprise_id={case['enterprise'].id}&q=年度").get_data(as_text=True)
    assert 'data-testid="inbox-empty"' in client.get("/inbox?q=不存在的案件").get_data(as_text=True)
    assert 'data-testid="inbox-empty"' in client.get("/inbox?process=filing").get_data(as_text=True)
    page = client.get("/inbox?sort=due&desc=1&due=week").get_data(as_text=True)
    assert 'value="week" selected' in page


def test_claim_in_place_with_htmx_then_mine_tab(login_as, case):
    client = login_as("enterprise", org=case["enterprise"])
    row = client.post(f"/tasks/{case['task'].id}/claim", headers={"HX-Request": "true"})
    assert row.status_code == 200 and "已签收" in row.get_data(as_text=True) and 'data-testid="unclaim"' in row.get_data(as_text=True)
    assert "提交材料" in client.get("/inbox?tab=mine").get_data(as_text=True)
    assert 'data-testid="inbox-empty"' in client.get("/inbox?tab=todo").get_data(as_text=True)
    colleague = login_as("enterprise", org=case["enterprise"])
    refused = colleague.post(f"/tasks/{case['task'].id}/claim", headers={"HX-Request": "true"})
    assert f"该任务已由 {client.user.display_name} 签收。" in refused.get_data(as_text=True)
    events = event_count(case["instance"].id)
    response = colleague.post(f"/tasks/{case['task'].id}", data={"action": "complete", "title": "x", "amount": "1"})
    assert response.status_code == 409
    assert f"该任务已由 {client.user.display_name} 签收，您不能办理。" in response.get_data(as_text=True)
    row = db.session.get(HumanTask, case["task"].id)
    assert (row.status, row.claimed_by_id, row.completed_data, row.draft) == ("open", client.user.id, None, None)
    assert event_count(case["instance"].id) == events
    assert colleague.post(f"/tasks/{case['task'].id}", data={"action": "draft", "title": "x"}).status_code == 409
    assert db.session.get(HumanTask, case["task"].id).draft is None


def test_bulk_claim(login_as, case):
    client = login_as("enterprise", org=case["enterprise"])
    body = client.post("/inbox/claim", data={"task_id": [str(case["task"].id), "999999"]},
                       follow_redirects=True).get_data(as_text=True)
    assert "已签收 1 项任务" in body and "另有 1 项无法签收" in body


def test_task_page_validates_at_the_field_and_changes_nothing(login_as, case):
    client = login_as("enterprise", org=case["enterprise"])
    page = client.get(f"/tasks/{case['task'].id}").get_data(as_text=True)
    assert "用于计算 5% 履约保证金" in page and 'data-testid="diagram"' in page and "办理记录" in page
    bad = client.post(f"/tasks/{case['task'].id}", data={"action": "complete", "title": "", "amount": "-1"})
    text = bad.get_data(as_text=True)
    assert 'data-field-error="title"' in text and 'data-field-error="amount"' in text
    assert db.session.get(HumanTask, case["task"].id).status == "open"


def test_draft_is_saved_and_shown_again(login_as, case):
    client = login_as("enterprise", org=case["enterprise"])
    client.post(f"/tasks/{case['task'].id}", data={"action": "draft", "title": "草稿标题", "amount": ""})
    assert 'value="草稿标题"' in client.get(f"/tasks/{case['task'].id}").get_data(as_text=True)
    assert db.session.get(HumanTask, case["task"].id).status == "open"


def test_completing_records_who_and_moves_the_case(login_as, case):
    client = login_as("enterprise", org=case["enterprise"])
    response = client.post(f"/tasks/{case['task'].id}", data={"action": "complete", "title": "材料", "amount": "100"})
    assert response.status_code == 302
    done = db.session.get(HumanTask, case["task"].id)
    before = (done.completed_data, done.completed_at, done.instance.lock_version, event_count(case["instance"].id))
    again = client.post(f"/tasks/{case['task'].id}", data={"action": "complete", "title": "改过的材料", "amount": "999"})
    assert again.status_code == 409
    assert "该任务已经办理完毕，无需重复提交。" in again.get_data(as_text=True)
    done = db.session.get(HumanTask, case["task"].id)
    assert (done.completed_data, done.completed_at, done.instance.lock_version,
            event_count(case["instance"].id)) == before
    assert done.completed_data["title"] == "材料"
    center = login_as("housing_center")
    assert "审核材料" in center.get("/inbox").get_data(as_text=True)
    page = center.get(f"/cases/{case['instance'].id}").get_data(as_text=True)
    assert "办理" in page and client.user.display_name in page
    states = center.get(f"/cases/{case['instance'].id}/diagram.json").get_json()["states"]
    assert "review" in states["active"] and "submit" in states["completed"] and "review_deadline" in states["waiting"]


def test_role_refusal_and_done_tab(login_as, case):
    center = login_as("housing_center")
    refused = center.post(f"/tasks/{case['task'].id}", data={"action": "complete", "title": "x", "amount": "1"},
                          follow_redirects=True)
    assert "您无权办理" in refused.get_data(as_text=True)
    client = login_as("enterprise", org=case["enterprise"])
    client.post(f"/tasks/{case['task'].id}", data={"action": "complete", "title": "材料", "amount": "100"})
    assert "提交材料" in client.get("/inbox?tab=done").get_data(as_text=True)


def test_overdue_badge_and_filter(login_as, case):
    row = db.session.get(HumanTask, case["task"].id)
    row.due_at = datetime.now(timezone.utc) - timedelta(days=1)
    db.session.commit()
    client = login_as("enterprise", org=case["enterprise"])
    assert 'data-testid="badge-overdue"' in client.get("/inbox?due=overdue").get_data(as_text=True)
    row.due_at = datetime.now(timezone.utc) + timedelta(days=30)
    db.session.commit()
    assert 'data-testid="inbox-empty"' in client.get("/inbox?due=overdue").get_data(as_text=True)


def test_supervisor_all_tab_and_actions(login_as, case):
    assert login_as("enterprise", org=case["enterprise"]).get("/inbox?tab=all").status_code == 200
    center = login_as("housing_center")
    assert "提交材料" in center.get("/inbox?tab=all").get_data(as_text=True)
    iid = case["instance"].id
    no_reason = center.post(f"/cases/{iid}/terminate", data={"reason": " "}, follow_redirects=True)
    assert "请填写终止原因" in no_reason.get_data(as_text=True)
    center.post(f"/cases/{iid}/suspend")
    assert "已暂停" in center.get(f"/cases/{iid}").get_data(as_text=True)
    ent = login_as("enterprise", org=case["enterprise"])
    assert "已暂停" in ent.post(f"/tasks/{case['task'].id}", data={"action": "complete", "title": "a", "amount": "1"},
                                follow_redirects=True).get_data(as_text=True)
    assert ent.post(f"/cases/{iid}/resume", follow_redirects=True).status_code == 403
    assert db.session.get(type(case["instance"]), iid).status == "suspended"  # the enterprise may not resume
    center.post(f"/cases/{iid}/resume")
    center.post(f"/cases/{iid}/terminate", data={"reason": "企业已撤回"})
    assert db.session.get(type(case["instance"]), iid).status == "terminated"
    assert db.session.get(HumanTask, case["task"].id).status == "cancelled"


def test_comments_on_a_case(login_as, case):
    client = login_as("enterprise", org=case["enterprise"])
    client.post(f"/cases/{case['instance'].id}/comments", data={"body": "材料下周补齐"})
    assert "材料下周补齐" in client.get(f"/tasks/{case['task'].id}").get_data(as_text=True)
    empty = client.post(f"/cases/{case['instance'].id}/comments", data={"body": "  "}, follow_redirects=True)
    assert "请填写意见内容" in empty.get_data(as_text=True)
    other = login_as("enterprise")
    assert other.post(f"/cases/{case['instance'].id}/comments", data={"body": "偷看"}).status_code in (302, 404)
    assert "偷看" not in client.get(f"/cases/{case['instance'].id}").get_data(as_text=True)


def test_substitute_acts_and_history_says_for_whom(login_as, case, factory):
    from datetime import date
    from app.models import Substitute
    absent = factory.user("housing_center", username="absent")
    cover = login_as("street_office")  # a different role, covering for the absent officer
    db.session.add(Substitute(user_id=absent.id, substitute_id=cover.user.id, starts_on=date(2020, 1, 1),
                              ends_on=date(2099, 1, 1)))
    db.session.commit()
    ent = login_as("enterprise", org=case["enterprise"])
    ent.post(f"/tasks/{case['task'].id}", data={"action": "complete", "title": "材料", "amount": "100"})
    review = db.session.scalar(db.select(HumanTask).where(HumanTask.name == "审核材料"))
    assert "审核材料" in cover.get("/inbox").get_data(as_text=True)
    cover.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "revise", "comment": "代为退回"})
    event = db.session.scalar(db.select(InstanceEvent).where(InstanceEvent.kind == "task_completed")
                              .order_by(InstanceEvent.id.desc()))
    assert event.actor_id == cover.user.id and event.on_behalf_of_id == absent.id


def test_attachments_are_checked_and_stored_outside_the_database(login_as, case, app):
    import os
    client = login_as("enterprise", org=case["enterprise"])
    url = f"/tasks/{case['task'].id}"
    fake_pdf = client.post(url, data={"action": "complete", "title": "材料", "amount": "100",
                                      "document": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "材料.pdf")},
                           content_type="multipart/form-data")
    assert "只接受 PDF、JPG、PNG、DOCX、XLSX 文件" in fake_pdf.get_data(as_text=True)
    big = client.post(url, data={"action": "complete", "title": "材料", "amount": "100",
                                 "document": (io.BytesIO(b"%PDF" + b"0" * (10 * 1024 * 1024)), "大文件.pdf")},
                      content_type="multipart/form-data")
    assert "附件不能超过 10 MB" in big.get_data(as_text=True)
    assert db.session.get(HumanTask, case["task"].id).status == "open"
    assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0
    ok = client.post(url, data={"action": "complete", "title": "材料", "amount": "100",
                                "document": (io.BytesIO(b"%PDF-1.4 test"), "../../etc/年度材料.pdf")},
                     content_type="multipart/form-data")
    assert ok.status_code == 302
    row = db.session.scalar(db.select(Attachment))
    assert row.filename == "年度材料.pdf" and "/" not in row.stored_name
    assert os.path.exists(os.path.join(app.config["UPLOAD_FOLDER"], row.stored_name))
    download = client.get(f"/attachments/{row.id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 test"
    assert login_as("enterprise").get(f"/attachments/{row.id}").status_code == 404
