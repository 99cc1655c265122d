"""The account page as its users see it: payable at the policy's numbers, the ledger with
its filters, its Excel export and the balance chart, a paid quarter refused again, and a
payee account number that fails its check refused at the field."""
import io
from datetime import timedelta
from decimal import Decimal

from openpyxl import load_workbook

from app.engine.calendar import SHANGHAI, now
from app.extensions import db
from app.models import DisbursementRequest, EscrowAccount
from app.services import escrow
from tests.escrow.conftest import approve_a_disbursement, deposit


def test_nothing_is_payable_at_40000_with_an_annual_fee_of_1000000(setup, bank_url, login_as):
    account = setup["account"]
    deposit(bank_url, account.account_no, "40000.00")
    escrow.pull_statement(account)
    assert escrow.bond_floor(account) == Decimal("50000.00")
    assert str(escrow.payable_now(account)) == "0.00"
    page = login_as("enterprise", org=setup["enterprise"]).get(f"/escrow/accounts/{account.id}").get_data(as_text=True)
    assert 'data-testid="payable">0.00<' in page and 'data-testid="balance">40,000.00<' in page


def test_a_quarter_already_paid_is_refused(setup, bank_url, factory, login_as):
    account = setup["account"]
    req = approve_a_disbursement(setup, bank_url, factory)
    assert db.session.get(DisbursementRequest, req.id).status == "paid"
    deposit(bank_url, account.account_no, "90000.00")  # money above the floor again: still one request a quarter
    escrow.pull_statement(db.session.get(EscrowAccount, account.id))
    enterprise = login_as("enterprise", org=setup["enterprise"])
    again = enterprise.post(f"/escrow/accounts/{account.id}", data={"year": req.year, "quarter": req.quarter},
                            follow_redirects=True)
    assert f"{req.year} 年第 {req.quarter} 季度已申请过，每季度只能申请一次" in again.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(DisbursementRequest.id))) == 1


def test_a_payee_account_number_failing_its_check_is_refused_at_the_field(app, login_as, factory, bank_url):
    import requests
    community = factory.community(enterprise=factory.enterprise(), name="乾州新城")
    bank = factory.bank()
    center = login_as("housing_center")
    page = center.post("/escrow/accounts/new", data={"community_id": community.id, "bank_id": bank.id,
                                                      "payee_account_no": "6222021234567890127",  # check digit off by one
                                                      "payee_name": "乾元物业"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-field-error="payee_account_no"' in body and "校验位不正确" in body
    assert db.session.scalar(db.select(db.func.count(EscrowAccount.id))) == 0
    assert requests.get(f"{bank_url}/_control/state", timeout=5).json()["accounts"] == {}  # the bank was not asked


def test_ledger_filters_excel_export_and_balance_chart(setup, bank_url, factory, login_as):
    account = setup["account"]
    approve_a_disbursement(setup, bank_url, factory)  # 180 000.00 in, 130 000.00 out
    deposit(bank_url, account.account_no, "300.00", payer="乾元物业", memo="线下收费")
    escrow.pull_statement(db.session.get(EscrowAccount, account.id))
    client = login_as("enterprise", org=setup["enterprise"])
    url = f"/escrow/accounts/{account.id}"

    def rows(query=""):
        page = client.get(url + query).get_data(as_text=True)
        table = page.split('data-testid="ledger"', 1)[1].split("</table>", 1)[0]
        return table.count("<tr>") - 1, table, page

    assert rows()[0] == 3
    count, table, _ = rows("?kind=disbursement")
    assert count == 1 and "季度拨付" in table and "130,000.00" in table and "业主缴费" not in table
    today = now().astimezone(SHANGHAI).date()
    assert rows(f"?date_from={today}&date_to={today}")[0] == 3
    assert rows(f"?date_from={today + timedelta(days=1)}")[0] == 1  # only the "nothing" row
    assert "没有记录" in rows(f"?date_from={today + timedelta(days=1)}")[1]
    count, _, page = rows(f"?date_from={today}&date_to={today - timedelta(days=1)}")
    assert 'data-field-error="date_to"' in page and "结束日期不能早于开始日期" in page and count == 3

    export = client.get(f"{url}/ledger.xlsx")
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(export.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("记账时间", "类型", "金额（元）", "摘要", "银行流水号", "指令编号")
    assert [(r[1], Decimal(str(r[2]))) for r in values[1:]] == [
        ("线下收费存入", Decimal("300.00")), ("季度拨付", Decimal("130000.00")), ("业主缴费", Decimal("180000.00"))]
    assert values[2][5].startswith("WY-D") and values[3][4].startswith("SB")
    only = load_workbook(io.BytesIO(client.get(f"{url}/ledger.xlsx?kind=owner_payment").data)).active
    assert [r[1] for r in only.iter_rows(min_row=2, values_only=True)] == ["业主缴费"]

    points = client.get(f"{url}/balance.json").get_json()["points"]
    assert [p[1] for p in points] == ["180000.00", "50000.00", "50300.00"]
    assert login_as("enterprise").get(f"{url}/balance.json").status_code == 404
    assert login_as("enterprise").get(f"{url}/ledger.xlsx").status_code == 404
