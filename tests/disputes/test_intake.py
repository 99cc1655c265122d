"""Work-order intake: the signed hotline endpoint (new, duplicate, forged, replayed, empty),
matching by address, triage of unmatched ones, and complaints entered at a street office."""
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import requests
from openpyxl import Workbook

from app.extensions import db
from app.models import Dispute, HumanTask, IntegrationNonce, LongJob, ProcessInstance
from tests.disputes.conftest import PATH, open_task, post_signed, work_order


def counts():
    return (db.session.scalar(db.select(db.func.count(Dispute.id))),
            db.session.scalar(db.select(db.func.count(ProcessInstance.id))))


def test_a_signed_work_order_opens_a_matched_case_and_a_duplicate_is_merged(app, client, world):
    response, _ = post_signed(client, app, work_order())
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "created" and body["matched"] is True
    dispute = db.session.get(Dispute, body["dispute_id"])
    assert dispute.community_id == world["community"].id and dispute.enterprise_id == world["enterprise"].id
    assert dispute.street_office_id == world["street"].id
    assert dispute.caller_phone == "138****1234"  # never the full number
    task = open_task(dispute.id)
    assert task.spec_id == "dispatch" and task.role == "street_office" and task.street_office_id == world["street"].id
    assert "世纪华庭" in task.title and "GD20260501001" in task.title

    again, _ = post_signed(client, app, work_order(content="再次来电催促：电梯仍未修好。"))
    assert again.status_code == 200 and again.get_json()["status"] == "merged"
    assert again.get_json()["dispute_id"] == dispute.id and again.get_json()["duplicates"] == 1
    assert counts() == (1, 1)


def test_forged_unsigned_replayed_and_empty_work_orders_change_nothing(app, client, world):
    forged, _ = post_signed(client, app, work_order(), secret="not-the-secret")
    assert forged.status_code == 401 and forged.get_json()["fields"]["signature"] == "bad_signature"
    unsigned = client.post(PATH, json=work_order())
    assert unsigned.status_code == 401
    empty, _ = post_signed(client, app, work_order(content="  "))
    assert empty.status_code == 422 and "content" in empty.get_json()["fields"]
    no_number, _ = post_signed(client, app, work_order(number=""))
    assert no_number.status_code == 422
    assert counts() == (0, 0)
    if db.engine.dialect.name == "postgresql":  # (pysqlite ends a bare SAVEPOINT with a commit)
        assert db.session.scalar(db.select(db.func.count(IntegrationNonce.id))) == 0  # refused calls leave no trace

    body = work_order()
    first, headers = post_signed(client, app, body)
    assert first.status_code == 201
    replay, _ = post_signed(client, app, body, headers=headers)
    assert replay.status_code == 401 and replay.get_json()["fields"]["signature"] == "replayed"
    data = json.dumps(work_order(number="GD-OTHER"), ensure_ascii=False).encode()
    tampered = client.post(PATH, data=data, headers={**headers, "Content-Type": "application/json"})
    assert tampered.status_code == 401
    assert counts() == (1, 1)


def test_the_sandbox_platform_pushes_a_signed_work_order(app, world, hotline):
    from sandbox.server import serve_in_thread
    url, shutdown = serve_in_thread(app)
    try:
        pushed = requests.post(f"{hotline}/_control/push", params={"url": url}, json=work_order("GD-PUSH-1"),
                               timeout=10).json()
    finally:
        shutdown()
    assert pushed["status"] == 201
    assert db.session.scalar(db.select(Dispute.work_order_no)) == "GD-PUSH-1"


def test_an_unmatched_work_order_is_triaged_by_the_housing_center(app, client, world, login_as):
    response, _ = post_signed(client, app, work_order("GD-UNMATCHED", address="吉首市某路 88 号"))
    dispute_id = response.get_json()["dispute_id"]
    assert response.get_json()["matched"] is False
    task = open_task(dispute_id)
    assert task.spec_id == "triage" and task.role == "housing_center"
    street = login_as("street_office", org=world["street"])
    assert "GD-UNMATCHED" not in street.get("/inbox").get_data(as_text=True)

    center = login_as("housing_center")
    refused = center.post(f"/tasks/{task.id}", data={"action": "complete", "is_property": "yes"})
    assert "物业纠纷须选择所属小区" in refused.get_data(as_text=True)
    center.post(f"/tasks/{task.id}", data={"action": "complete", "is_property": "yes",
                                           "community_id": world["far"].id, "urgent": "y", "note": "峒河湾小区"})
    dispute = db.session.get(Dispute, dispute_id)
    assert dispute.street_office_id == world["other_street"].id and dispute.urgent
    dispatch = open_task(dispute_id)
    assert dispatch.spec_id == "dispatch" and dispatch.street_office_id == world["other_street"].id
    assert "峒河湾" in dispatch.title
    assert "GD-UNMATCHED" not in street.get("/inbox").get_data(as_text=True)  # not this street's case
    other = login_as("street_office", org=world["other_street"])
    assert "GD-UNMATCHED" in other.get("/inbox").get_data(as_text=True)


def test_not_a_property_dispute_is_answered_back_to_the_hotline(app, client, world, login_as, hotline):
    response, _ = post_signed(client, app, work_order("GD-NOTPROP", address="乾州古城景区", content="景区噪音扰民"))
    dispute_id = response.get_json()["dispute_id"]
    center = login_as("housing_center")
    task = open_task(dispute_id)
    no_note = center.post(f"/tasks/{task.id}", data={"action": "complete", "is_property": "no"})
    assert "须写明转办部门" in no_note.get_data(as_text=True)
    center.post(f"/tasks/{task.id}", data={"action": "complete", "is_property": "no", "note": "转乾州街道综合执法"})
    dispute = db.session.get(Dispute, dispute_id)
    assert dispute.status == "not_property" and dispute.outcome == "not_property"
    assert db.session.get(ProcessInstance, dispute.instance_id).status == "completed"
    replies = requests.get(f"{hotline}/_control/state", timeout=5).json()["replies"]
    assert "转乾州街道综合执法" in replies["GD-NOTPROP"]["content"]


def test_a_street_office_registers_a_complaint(app, world, login_as):
    street = login_as("street_office", org=world["street"])
    page = street.get("/disputes/new").get_data(as_text=True)
    assert "世纪华庭" in page and "峒河湾" not in page  # only this street's communities
    empty = street.post("/disputes/new", data={"category": "物业收费", "content": ""})
    assert "请填写投诉内容" in empty.get_data(as_text=True)
    foreign = street.post("/disputes/new", data={"category": "物业收费", "content": "乱收费",
                                                 "community_id": world["far"].id})
    assert foreign.status_code == 200  # not a choice here: refused by the form
    assert db.session.scalar(db.select(db.func.count(Dispute.id))) == 0
    done = street.post("/disputes/new", data={"category": "物业收费", "content": "物业多收停车费",
                                              "caller_name": "王先生", "caller_phone": "13900001111",
                                              "community_id": world["community"].id}, follow_redirects=True)
    assert "投诉已登记" in done.get_data(as_text=True)
    dispute = db.session.scalar(db.select(Dispute))
    assert dispute.source == "street_office" and dispute.work_order_no is None and dispute.caller_phone == "139****1111"
    assert open_task(dispute.id).spec_id == "dispatch"
    assert login_as("enterprise").get("/disputes/new").status_code == 403
    assert login_as("owner").get("/disputes/").status_code == 403


def _upload(client, content: bytes, name: str):
    return client.post("/disputes/import", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_work_orders_imported_from_a_file_are_checked_whole_and_merged_by_number(app, world, login_as):
    """For hotline platforms that cannot call the API: CSV (UTF-8 or GBK) or Excel, imported
    as a long job whose page shows the progress, then the bad rows or the result."""
    center = login_as("housing_center")
    header = "工单编号,受理时间,来电人,来电号码,地址,类别,诉求内容,办结时限\n"
    good = "GD-F1,2026-05-06 09:30,李女士,13874301234,吉首市乾州街道世纪华庭 5 栋,环境卫生,垃圾清运不及时,2026-05-20 18:00\n"
    bad = header + good + "GD-F2,昨天上午,王先生,,峒河湾,物业收费,,\n"
    refused = _upload(center, bad.encode("gb18030"), "orders.csv")
    job = db.session.scalar(db.select(LongJob))
    assert refused.headers["Location"].endswith(f"/jobs/{job.id}")
    page = center.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'data-status="rejected"' in page and "工单文件有误，未导入任何工单。" in page
    assert job.error.splitlines() == ["第 3 行：缺少诉求内容。", "第 3 行：时间“昨天上午”格式不正确。"]
    assert "第 3 行：缺少诉求内容" in page and "第 3 行：时间“昨天上午”格式不正确" in page
    assert 'data-testid="job-restart"' not in page  # a bad file is not retried: it is corrected
    assert counts() == (0, 0)  # one bad row: nothing imported

    post_signed(center, app, work_order(number="GD-F1"))  # already pushed once through the API
    book = Workbook()
    book.active.append(header.strip().split(","))
    book.active.append(good.strip().split(","))
    book.active.append(["GD-F3", datetime(2026, 5, 7, 10, 0), "赵先生", "13900002222", "吉首市峒河街道峒河湾",
                        "停车管理", "车位被占", None])
    data = io.BytesIO()
    book.save(data)
    done = _upload(center, data.getvalue(), "orders.xlsx")
    job = db.session.scalar(db.select(LongJob).order_by(LongJob.id.desc()))
    assert done.headers["Location"].endswith(f"/jobs/{job.id}")
    page = center.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'data-status="done"' in page and "已导入 1 件新工单，合并重复工单 1 件。" in page
    assert 'data-testid="job-back"' in page and job.attachment_id is None
    assert counts() == (2, 2)
    far = db.session.scalar(db.select(Dispute).where(Dispute.work_order_no == "GD-F3"))
    assert far.community_id == world["far"].id and far.caller_phone == "139****2222"
    assert far.received_at.astimezone(ZoneInfo("Asia/Shanghai")).hour == 10

    empty = center.post("/disputes/import", data={}, content_type="multipart/form-data")
    assert "请选择文件。" in empty.get_data(as_text=True)
    assert login_as("enterprise").get("/disputes/import").status_code == 403
    assert login_as("mediator").post("/disputes/import").status_code == 403
    assert center.get(f"/jobs/{job.id}").status_code == 200
    assert login_as("street_office", org=world["street"]).get(f"/jobs/{job.id}").status_code == 404  # not theirs


def test_a_large_export_is_imported_by_a_worker_while_the_page_polls(app, world, login_as, redis_url, database_url,
                                                                    tmp_path, process):
    from redis import Redis

    from tests.engine.test_external_worker import run_worker
    Redis.from_url(redis_url).flushdb()
    app.config["REDIS_URL"] = redis_url
    try:
        street = login_as("street_office", org=world["street"])
        rows = "".join(f"GD-BIG-{n:03d},2026-05-06 09:30,业主{n},,吉首市乾州街道世纪华庭 {n % 9 + 1} 栋,环境卫生,"
                       f"楼道卫生差（{n}）,\n" for n in range(60))
        response = _upload(street, ("工单编号,受理时间,来电人,来电号码,地址,类别,诉求内容,办结时限\n" + rows).encode(),
                           "big.csv")
        job = db.session.scalar(db.select(LongJob))
        assert response.headers["Location"].endswith(f"/jobs/{job.id}")
        waiting = street.get(f"/jobs/{job.id}/progress").get_data(as_text=True)
        assert 'data-status="queued"' in waiting and 'hx-trigger="every 1s"' in waiting
        assert counts() == (0, 0)  # nothing imported in the request
        run_worker(database_url, redis_url, "", tmp_path)
        done = street.get(f"/jobs/{job.id}/progress").get_data(as_text=True)
        assert 'data-status="done"' in done and "已导入 60 件新工单，合并重复工单 0 件。" in done
        assert "hx-trigger" not in done and ">100%<" in done
        assert counts() == (60, 60)
        assert db.session.scalar(db.select(db.func.count(HumanTask.id)).where(
            HumanTask.spec_id == "dispatch", HumanTask.street_office_id == world["street"].id)) == 60
    finally:
        app.config["REDIS_URL"] = None
        Redis.from_url(redis_url).flushdb()
