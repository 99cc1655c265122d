"""Each role's home page shows its dashboard; every figure beside a chart is checked against
the database (or the sandbox bank), and each role sees only its own."""
from decimal import Decimal

from app.extensions import db
from app.models import BankInstruction, DisbursementRequest, Enterprise, HumanTask
from tests.dashboards.scene import bank_balance, bank_url, processes, scene, setup  # noqa: F401 (fixtures)
from tests.html_tables import table_dict, table_rows


def money(value) -> str:
    return f"{Decimal(value):,.2f}"


def test_the_center_dashboard_figures_match_the_database(scene, login_as, bank_url):
    html = login_as("housing_center").get("/").get_data(as_text=True)

    enterprises = db.session.scalars(db.select(Enterprise)).all()
    filing = table_dict(html, "filing")
    assert filing["未备案"] == str(sum(1 for e in enterprises if e.filing_status == "unfiled"))
    assert sum(int(v) for v in filing.values()) == len(enterprises) == 2
    supervision = table_dict(html, "supervision")
    assert supervision["已纳入资金监管"] == str(sum(1 for e in enterprises if e.under_supervision)) == "2"
    assert table_dict(html, "risk")["正常"] == "2"

    at_the_bank = bank_balance(bank_url, scene["account"].account_no) + bank_balance(
        bank_url, scene["far_account"].account_no)
    assert at_the_bank == Decimal("70000.00")
    assert f'data-testid="escrow-total">¥ {money(at_the_bank)}' in html

    paid = db.session.scalars(db.select(DisbursementRequest).where(DisbursementRequest.status == "paid")).all()
    assert [(f"{r.year}Q{r.quarter}", f"¥ {money(r.payable)}") for r in paid] == list(
        table_dict(html, "disbursed").items())
    assert paid[0].payable == Decimal("130000.00")

    collection = {row[0]: row[1:] for row in table_rows(html, "collection")[1:]}
    assert collection["世纪华庭"] == ["1,000,000.00", "180,000.00", "18.0%"]
    assert collection["峒河湾"] == ["200,000.00", "20,000.00", "10.0%"]
    assert list(collection) == ["峒河湾", "世纪华庭"]  # lowest rate first

    open_tasks = db.session.scalars(db.select(HumanTask).where(HumanTask.status == "open")).all()
    assert len(open_tasks) == 1
    cases = table_rows(html, "open-cases")
    assert cases[0][:3] == ["流程", "超期", "今日到期"]
    assert cases[1][1:] == ["1", "0", "0", "0"]
    assert table_dict(html, "overdue-by-role") == {"住保中心": "1"}
    assert 'data-testid="chart-filing" data-kind="pie"' in html


def test_the_enterprise_sees_its_own_escrow_and_cases_only(scene, login_as):
    page = login_as("enterprise", org=scene["enterprise"]).get("/").get_data(as_text=True)
    positions = table_rows(page, "positions")
    assert [row[0] for row in positions[1:]] == ["世纪华庭"]
    assert positions[1][1:] == ["50,000.00", "50,000.00", "0.00"]
    assert table_dict(page, "disbursed") == {next(iter(table_dict(page, "disbursed"))): "¥ 130,000.00"}
    assert "峒河湾" not in page
    assert "没有办理中的案件" in page

    other = login_as("enterprise", org=scene["other"]).get("/").get_data(as_text=True)
    assert [row[0] for row in table_rows(other, "positions")[1:]] == ["峒河湾"]
    assert "世纪华庭" not in other and table_rows(other, "disbursed") == [["没有记录。"]]


def test_the_bank_sees_its_own_instructions_only(scene, login_as):
    instruction = db.session.scalar(db.select(BankInstruction))
    page = login_as("bank", org=scene["bank"]).get("/").get_data(as_text=True)
    assert table_dict(page, "instructions-by-status")["已执行"] == "1"
    amounts = {row[0]: row[1:] for row in table_rows(page, "instruction-amounts")[1:]}
    assert amounts["已执行"] == ["1", money(instruction.amount)]
    assert page.count('data-testid="bank-accounts">1<') == 1

    other = login_as("bank", org=scene["other_bank"]).get("/").get_data(as_text=True)
    assert table_dict(other, "instructions-by-status")["已执行"] == "0"
    assert instruction.reference not in other


def test_the_street_office_sees_its_own_communities(scene, login_as):
    page = login_as("street_office", org=scene["community"].street_office).get("/").get_data(as_text=True)
    assert [row[0] for row in table_rows(page, "collection")[1:]] == ["世纪华庭"]
    assert "峒河湾" not in page
    assert 'data-testid="open-disputes">0<' in page


def test_a_role_without_a_dashboard_sees_the_plain_home_page(login_as):
    page = login_as("mediator").get("/").get_data(as_text=True)
    assert "wuye-chart" not in page and "echarts" not in page
