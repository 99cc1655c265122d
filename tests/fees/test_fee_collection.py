"""Fee collection (policy 五(四)): the roll imported as a long job, receipts matched to
households by the room in the memo, the collection rate (also on the center's dashboard,
checked against the database), the arrears list, reminder rounds and the committee's urging."""
import hashlib
import io
import logging
import subprocess
from datetime import timedelta
from decimal import Decimal

from openpyxl import Workbook, load_workbook

from app.engine.calendar import SHANGHAI, now
from app.extensions import db
from app.models import Attachment, AuditEvent, FeeHousehold, FeeReminder, FeeUrging, LedgerTxn, LongJob
from app.services import escrow
from tests.fees.conftest import bank_url, fees, pay, processes, setup, this_year, upload  # noqa: F401 (fixtures)
from tests.html_tables import table_rows


def pdf_text(data: bytes) -> str:
    text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return "".join(text.split())


def test_the_roll_is_imported_as_a_long_job_and_receipts_are_matched_by_room(fees, login_as):
    job = fees["job"]
    enterprise = fees["enterprise_client"]
    page = enterprise.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'data-status="done"' in page and "已导入 3 户" in page and 'data-testid="job-back"' in page
    assert job.attachment_id is None and job.params["year"] == this_year()

    community = fees["community"]
    page = enterprise.get(f"/fees/{community.id}").get_data(as_text=True)
    fee_total = sum(h.annual_fee for h in db.session.scalars(db.select(FeeHousehold)))
    received = sum(t.amount for t in db.session.scalars(db.select(LedgerTxn).where(
        LedgerTxn.kind.in_(("owner_payment", "offline_deposit")))))
    assert (fee_total, received) == (Decimal("8400.00"), Decimal("4800.00"))
    assert 'data-testid="fee-receivable">8,400.00<' in page
    assert 'data-testid="fee-received">4,800.00<' in page
    assert 'data-testid="fee-matched">4,000.00<' in page  # 2400 (1-1-101) + 1000 + 600 (2-1-201)
    assert 'data-testid="fee-unmatched">800.00<' in page
    assert 'data-testid="fee-rate">57.1%<' in page  # 4800 / 8400
    unmatched = {row[2]: row[3] for row in table_rows(page, "unmatched")[1:]}
    assert unmatched == {"业主 物业费": "500.00", "业主 1-1-101，1-1-102": "300.00"}  # no room, two rooms

    arrears = {row[0]: row[1:5] for row in table_rows(page, "arrears")[1:]}
    assert arrears == {"1-1-102": ["李四", "2,400.00", "0.00", "2,400.00"],
                       "2-1-201": ["王五", "3,600.00", "1,600.00", "2,000.00"]}


def test_the_center_dashboard_shows_the_rate_from_the_roll(fees, login_as):
    html = login_as("housing_center").get("/").get_data(as_text=True)
    collection = {row[0]: row[1:] for row in table_rows(html, "collection")[1:]}
    roll_total = db.session.scalar(db.select(db.func.sum(FeeHousehold.annual_fee)))
    paid = db.session.scalar(db.select(db.func.sum(LedgerTxn.amount)).where(LedgerTxn.kind == "owner_payment"))
    assert collection["世纪华庭"] == [f"{roll_total:,.2f}", f"{paid:,.2f}",
                                   f"{(paid / roll_total * 100).quantize(Decimal('0.1'))}%"] \
        == ["8,400.00", "4,800.00", "57.1%"]
    assert '"57.1"' in html  # the chart's value


def test_a_second_import_updates_by_room_and_excel_is_read(fees, login_as):
    wb = Workbook()
    ws = wb.active
    ws.append(["房号", "业主姓名", "年物业费"])
    ws.append(["1-1-102", "李四（新）", "3000.00"])
    ws.append(["3-1-301", "赵六", "1200.50"])
    data = io.BytesIO()
    wb.save(data)
    response = upload(fees["enterprise_client"], fees["community"].id, data.getvalue(), "roll.xlsx")
    assert response.status_code == 302
    rooms = {h.room: (h.owner_name, h.annual_fee) for h in db.session.scalars(db.select(FeeHousehold))}
    assert rooms == {"1-1-101": ("张三", Decimal("2400.00")), "1-1-102": ("李四（新）", Decimal("3000.00")),
                     "2-1-201": ("王五", Decimal("3600.00")), "3-1-301": ("赵六", Decimal("1200.50"))}


def test_bad_rows_are_reported_by_row_and_nothing_is_imported(setup, login_as):
    enterprise = login_as("enterprise", org=setup["enterprise"])
    bad = "房号,业主姓名,年物业费\n1-1-101,张三,abc\n1-1-102,,100\n1-1-101,王五,100\n1-1-103,赵六,-5\n1-1-104,钱七,1.234\n"
    response = upload(enterprise, setup["community"].id, bad.encode())
    job = db.session.scalar(db.select(LongJob))
    assert response.headers["Location"].endswith(f"/jobs/{job.id}")
    page = enterprise.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'data-status="rejected"' in page and "收费名册有误，未导入任何住户。" in page
    errors = job.error.splitlines()
    assert errors[0].startswith("第 2 行：年物业费有误") and "金额须为数字" in errors[0]
    assert errors[1] == "第 3 行：缺少业主姓名。"
    assert errors[2] == "第 4 行：房号“1-1-101”与第 2 行重复。"
    assert "第 5 行" in errors[3] and "金额须大于 0" in errors[3]
    assert "第 6 行" in errors[4] and "最多保留两位小数" in errors[4]
    assert "第 3 行：缺少业主姓名。" in page and 'data-testid="job-restart"' not in page
    assert db.session.scalar(db.select(db.func.count(FeeHousehold.id))) == 0

    missing = upload(enterprise, setup["community"].id, "房号,姓名\n1,2\n".encode())
    job = db.session.scalar(db.select(LongJob).order_by(LongJob.id.desc()))
    assert missing.status_code == 302 and job.status == "rejected" and "年物业费" in job.message

    no_file = enterprise.post(f"/fees/{setup['community'].id}/import", data={}, content_type="multipart/form-data")
    assert no_file.status_code == 422 and "请选择文件。" in no_file.get_data(as_text=True)
    future = upload(enterprise, setup["community"].id, b"x", year=1999)  # the page clamps the year to this one
    assert future.status_code == 302


def test_the_arrears_list_for_the_committee_in_excel_and_pdf(fees):
    committee = fees["committee_client"]
    community = fees["community"]
    page = committee.get(f"/fees/{community.id}/arrears").get_data(as_text=True)
    assert [row[0] for row in table_rows(page, "arrears")[1:]] == ["1-1-102", "2-1-201"]  # largest debt first

    sheet = load_workbook(io.BytesIO(committee.get(f"/fees/{community.id}/arrears?format=xlsx").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("房号", "业主", "应缴", "已缴", "欠缴")
    assert [r[0] for r in rows[1:]] == ["1-1-102", "2-1-201"]
    assert Decimal(str(rows[2][4])) == Decimal("2000.00")

    pdf = committee.get(f"/fees/{community.id}/arrears?format=pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = pdf_text(pdf.data)
    assert f"世纪华庭{this_year()}年度物业服务费欠费清单" in text
    assert "1-1-102李四2,400.000.00" in text and "2-1-201王五3,600.001,600.00" in text  # room, owner, fee, paid
    assert "2,000.00" in text and "欠费合计：4,400.00元" in text


def test_reminders_go_out_in_rounds_as_letters_and_messages(fees, login_as, bank_url, caplog):
    community, account = fees["community"], fees["account"]
    enterprise = fees["enterprise_client"]
    with caplog.at_level(logging.INFO, logger="wuye.notify"):
        response = enterprise.post(f"/fees/{community.id}/reminders")
    job = db.session.scalar(db.select(LongJob).where(LongJob.kind == "fee_reminders"))
    assert response.headers["Location"].endswith(f"/jobs/{job.id}")  # a long job: hundreds of letters to render
    assert "已发出第 1 轮催缴通知书，共 2 份。" in enterprise.get(f"/jobs/{job.id}").get_data(as_text=True)
    letters = db.session.scalars(db.select(FeeReminder).order_by(FeeReminder.id)).all()
    assert [(r.household.room, r.round, r.amount_due) for r in letters] == [
        ("1-1-102", 1, Decimal("2400.00")), ("2-1-201", 1, Decimal("2000.00"))]
    sms = [r.getMessage() for r in caplog.records if r.getMessage().startswith("notify sms:")]
    assert len(sms) == 1 and "138******00" in sms[0] and "13800138000" not in sms[0]  # only 王五 has a phone
    assert "尚欠 2000.00 元" in sms[0]

    letter = enterprise.get(f"/fees/reminders/{letters[1].id}/letter")
    text = pdf_text(letter.data)
    assert "物业服务费催缴通知书" in text and "王五业主" in text and "尚欠2,000.00元" in text and "贰仟元整" in text
    stored = db.session.get(Attachment, letters[1].attachment_id)
    assert stored.sha256 == hashlib.sha256(letter.data).hexdigest()

    pay(bank_url, account.account_no, "2400.00", "1-1-102")  # 李四 pays; only 王五 is reminded again
    escrow.pull_statement(account)
    enterprise.post(f"/fees/{community.id}/reminders")
    second = db.session.scalars(db.select(FeeReminder).where(FeeReminder.round == 2)).all()
    assert [r.household.room for r in second] == ["2-1-201"]
    page = enterprise.get(f"/fees/{community.id}").get_data(as_text=True)
    assert [row[:3] for row in table_rows(page, "reminder-rounds")[1:]][0][0] == "1"
    assert [row[2:] for row in table_rows(page, "reminder-rounds")[1:]] == [["2", "4,400.00"], ["1", "2,000.00"]]
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "fees.reminders")) == 2

    pay(bank_url, account.account_no, "2000.00", "2-1-201")
    escrow.pull_statement(account)
    nothing = enterprise.post(f"/fees/{community.id}/reminders", follow_redirects=True).get_data(as_text=True)
    assert "没有欠费住户，无需催缴。" in nothing
    assert db.session.scalar(db.select(db.func.count(FeeReminder.id))) == 3


def test_the_committee_records_its_urging(fees, login_as):
    community = fees["community"]
    committee = fees["committee_client"]
    household = db.session.scalar(db.select(FeeHousehold).where(FeeHousehold.room == "2-1-201"))
    today = now().astimezone(SHANGHAI).date()
    bad = committee.post(f"/fees/{community.id}/urgings", data={
        "household_id": household.id, "urged_on": (today + timedelta(days=1)).isoformat(), "method": "",
        "outcome": "promised"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "督促日期不能晚于今天。" in html or "请选择督促方式。" in html
    assert db.session.scalar(db.select(db.func.count(FeeUrging.id))) == 0
    none_chosen = committee.post(f"/fees/{community.id}/urgings", data={
        "household_id": 0, "urged_on": today.isoformat(), "method": "visit", "outcome": "promised"})
    assert none_chosen.status_code == 422 and "请选择欠费住户。" in none_chosen.get_data(as_text=True)

    response = committee.post(f"/fees/{community.id}/urgings", data={
        "household_id": household.id, "urged_on": today.isoformat(), "method": "visit", "outcome": "promised",
        "note": "王五承诺月底前缴清"})
    assert response.status_code == 302
    urging = db.session.scalar(db.select(FeeUrging))
    assert (urging.urged_by_id, urging.household_id, urging.outcome) == (committee.user.id, household.id, "promised")
    page = committee.get(f"/fees/{community.id}").get_data(as_text=True)
    assert table_rows(page, "urgings")[1][1:4] == ["2-1-201", "上门督促", "承诺限期缴纳"]
    arrears = {row[0]: row[6] for row in table_rows(page, "arrears")[1:]}
    assert arrears["2-1-201"] == f"{today} 承诺限期缴纳"

    assert fees["enterprise_client"].post(f"/fees/{community.id}/urgings", data={
        "household_id": household.id, "urged_on": today.isoformat(), "method": "visit",
        "outcome": "paid"}).status_code == 403
    assert db.session.scalar(db.select(db.func.count(FeeUrging.id))) == 1


def test_each_role_sees_only_its_own_communities(fees, login_as, factory):
    community = fees["community"]
    other_enterprise = factory.enterprise(name="峒河物业")
    far = factory.community(enterprise=other_enterprise, name="峒河湾")
    fees["enterprise_client"].post(f"/fees/{community.id}/reminders")
    reminder_id = db.session.scalar(db.select(FeeReminder.id))

    center = login_as("housing_center")
    names = {r[0].split()[0] for r in table_rows(center.get("/fees").get_data(as_text=True), "fee-rates")[1:]}
    assert names == {"世纪华庭", "峒河湾"}

    own = fees["enterprise_client"]
    assert {r[0].split()[0] for r in table_rows(own.get("/fees").get_data(as_text=True), "fee-rates")[1:]} == {"世纪华庭"}

    street = login_as("street_office", org=community.street_office)
    assert street.get(f"/fees/{community.id}").status_code == 200
    assert street.get(f"/fees/{far.id}").status_code == 404
    assert street.post(f"/fees/{community.id}/reminders").status_code == 403
    assert street.post(f"/fees/{community.id}/import").status_code == 403

    stranger = login_as("enterprise", org=other_enterprise)
    for path in (f"/fees/{community.id}", f"/fees/{community.id}/arrears", f"/fees/{community.id}/arrears?format=pdf",
                 f"/fees/{community.id}/arrears?format=xlsx", f"/fees/reminders/{reminder_id}/letter"):
        assert stranger.get(path).status_code == 404, path
    assert stranger.post(f"/fees/{community.id}/reminders").status_code == 404
    assert upload(stranger, community.id, b"x").status_code == 404
    assert "世纪华庭" not in stranger.get("/fees").get_data(as_text=True)

    assert fees["committee_client"].post(f"/fees/{community.id}/import").status_code == 403
    for role in ("bank", "owner", "device_supplier", "mediator"):
        client = login_as(role)
        assert client.get("/fees").status_code == 403, role
        assert client.get(f"/fees/{community.id}").status_code == 403, role
    assert db.session.scalar(db.select(db.func.count(FeeReminder.id))) == 2


def test_a_large_roll_is_imported_by_a_worker_while_the_page_polls(setup, login_as, app, redis_url, database_url,
                                                                  tmp_path, bank_url):
    from redis import Redis

    from tests.engine.test_external_worker import run_worker
    Redis.from_url(redis_url).flushdb()
    app.config["REDIS_URL"] = redis_url
    try:
        enterprise = login_as("enterprise", org=setup["enterprise"])
        rows = "".join(f"{n // 100 + 1}-{n % 100 + 1},业主{n},1200.00,\n" for n in range(1500))
        response = upload(enterprise, setup["community"].id, ("房号,业主姓名,年物业费\n" + rows).encode())
        job = db.session.scalar(db.select(LongJob))
        assert response.headers["Location"].endswith(f"/jobs/{job.id}")
        waiting = enterprise.get(f"/jobs/{job.id}/progress").get_data(as_text=True)
        assert 'data-status="queued"' in waiting and 'hx-trigger="every 1s"' in waiting
        run_worker(database_url, redis_url, bank_url, tmp_path)
        done = enterprise.get(f"/jobs/{job.id}/progress").get_data(as_text=True)
        assert 'data-status="done"' in done and "已导入 1500 户" in done and "hx-trigger" not in done
        assert db.session.scalar(db.select(db.func.sum(FeeHousehold.annual_fee))) == Decimal("1800000.00")
    finally:
        app.config["REDIS_URL"] = None
        Redis.from_url(redis_url).flushdb()


def test_the_api_gives_the_same_figures_scoped_like_the_pages(fees, api_client, factory):
    community = fees["community"]
    client, headers = api_client("owners_committee", org=fees["committee"])
    body = client.get("/api/v1/fees", headers=headers).get_json()
    assert body["items"] == [{"community_id": community.id, "community": "世纪华庭", "year": this_year(),
                              "has_roll": True, "receivable": "8400.00", "received": "4800.00", "matched": "4000.00",
                              "unmatched": "800.00", "rate": "57.1"}]
    arrears = client.get(f"/api/v1/fees/{community.id}/arrears", headers=headers).get_json()
    assert [(r["room"], r["owed"]) for r in arrears["items"]] == [("1-1-102", "2400.00"), ("2-1-201", "2000.00")]
    bad = client.get("/api/v1/fees?year=1999", headers=headers)
    assert bad.status_code == 422 and "year" in bad.get_json()["fields"]

    stranger, stranger_headers = api_client("enterprise")
    assert stranger.get("/api/v1/fees", headers=stranger_headers).get_json()["items"] == []
    assert stranger.get(f"/api/v1/fees/{community.id}/arrears", headers=stranger_headers).status_code == 404
    bank, bank_headers = api_client("bank")
    assert bank.get("/api/v1/fees", headers=bank_headers).status_code == 403
    assert client.get("/api/v1/fees").status_code == 401
