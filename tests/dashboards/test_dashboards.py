"""Each role's home page shows its dashboard; every figure beside a chart is checked against
the database with a query of the test's own (or against the sandbox bank), and each role
sees only its own."""
from collections import Counter
from datetime import datetime
from decimal import Decimal

from app.engine.calendar import SHANGHAI, now
from app.extensions import db
from app.models import (BankInstruction, Community, DisbursementRequest, Dispute, EmergencyTakeover, Enterprise,
                        Evaluation, HumanTask, LedgerEntry, LedgerTxn, ProcessModel)
from tests.dashboards.scene import bank_balance, bank_url, processes, scene, setup  # noqa: F401 (fixtures)
from tests.html_tables import table_dict, table_rows


def money(value) -> str:
    return f"{Decimal(value):,.2f}"


def open_tasks(*where) -> list[HumanTask]:
    return db.session.scalars(db.select(HumanTask).where(HumanTask.status == "open", *where)).all()


def check_open_cases(html: str, tasks: list[HumanTask]) -> None:
    """The open-cases table: per process, its open tasks split by deadline state."""
    names = dict(db.session.execute(db.select(ProcessModel.key, ProcessModel.name)).all())
    moment, today = now(), now().astimezone(SHANGHAI).date()
    expected = {}
    for t in tasks:
        row = expected.setdefault(names[t.model_key], [0, 0, 0, 0])
        if t.due_at is None:
            row[3] += 1
        elif t.due_at < moment:
            row[0] += 1
        elif t.due_at.astimezone(SHANGHAI).date() == today:
            row[1] += 1
        else:
            row[2] += 1
    rows = table_rows(html, "open-cases")
    assert rows[0] == ["流程", "超期", "今日到期", "未到期", "无期限"]
    assert {r[0]: [int(n) for n in r[1:]] for r in rows[1:]} == expected


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
    assert at_the_bank == Decimal("20000.00")  # 世纪华庭's funds all disbursed, released or cut
    assert f'data-testid="escrow-total">¥ {money(at_the_bank)}' in html

    paid = db.session.scalars(db.select(DisbursementRequest).where(DisbursementRequest.status == "paid")).all()
    assert [(f"{r.year}Q{r.quarter}", f"¥ {money(r.payable)}") for r in paid] == list(
        table_dict(html, "disbursed").items())
    assert paid[0].payable == Decimal("130000.00") and len(paid) == 1  # 峒河湾's is still at the bank

    collection = {row[0]: row[1:] for row in table_rows(html, "collection")[1:]}
    assert collection["世纪华庭"] == ["1,000,000.00", "180,000.00", "18.0%"]
    assert collection["峒河湾"] == ["200,000.00", "20,000.00", "10.0%"]
    assert list(collection) == ["峒河湾", "世纪华庭"]  # lowest rate first

    check_open_cases(html, open_tasks())
    overdue = Counter(t.role for t in open_tasks(HumanTask.due_at < now()))
    assert overdue == {"housing_center": 1}  # the unmatched work order's triage
    assert table_dict(html, "overdue-by-role") == {"住保中心": "1"}
    assert 'data-testid="chart-filing" data-kind="pie"' in html

    categories = Counter(db.session.scalars(db.select(Dispute.category)))
    assert categories == {"公共设施维修": 2, "环境卫生": 2, "物业收费": 1}
    assert {k: int(v) for k, v in table_dict(html, "complaints-by-category").items()} == categories
    months = Counter(at.astimezone(SHANGHAI).strftime("%Y-%m") for at in db.session.scalars(
        db.select(Dispute.received_at)))
    assert len(months) == 3
    by_month = table_dict(html, "complaints-by-month")
    assert list(by_month) == sorted(months) and {k: int(v) for k, v in by_month.items()} == months

    grades = Counter(db.session.scalars(db.select(Community.grade)))
    assert grades == {"A": 1, "C": 1, None: 2}
    assert table_dict(html, "grades") == {"A": "1", "B": "0", "C": "1", "D": "0", "未定级": "2"}

    by_quarter = table_dict(html, "escrow-by-quarter")
    entries = db.session.execute(db.select(LedgerTxn.booked_at, LedgerEntry.amount).join(
        LedgerTxn, LedgerTxn.id == LedgerEntry.txn_id).where(LedgerEntry.book == "bank")).all()
    for label, shown in by_quarter.items():
        year, quarter = int(label[:4]), int(label[-1])
        end = datetime(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1, tzinfo=SHANGHAI)
        assert shown == f"¥ {money(sum((a for at, a in entries if at < end), Decimal('0')))}", label
    assert list(by_quarter.values())[-1] == f"¥ {money(at_the_bank)}"  # this quarter: today's balance
    first = min(at for at, _a in entries).astimezone(SHANGHAI)
    assert list(by_quarter)[0] == f"{first.year}Q{(first.month - 1) // 3 + 1}"
    if len(by_quarter) > 1:  # 世纪华庭's payments came last quarter (when that quarter is this year)
        assert list(by_quarter.values())[-2] == "¥ 180,000.00"


def test_the_street_office_sees_its_own_communities_disputes_and_takeovers(scene, login_as):
    street = scene["community"].street_office
    page = login_as("street_office", org=street).get("/").get_data(as_text=True)
    assert [row[0] for row in table_rows(page, "collection")[1:]] == ["世纪华庭"]
    assert "峒河湾" not in page and "峒河小区" not in page

    own = db.session.scalars(db.select(Dispute).where(Dispute.street_office_id == street.id)).all()
    open_ones = [d for d in own if d.status not in ("closed", "not_property")]
    assert len(open_ones) == 3
    assert f'data-testid="open-disputes">{len(open_ones)}<' in page
    assert Counter(d.status for d in open_ones) == {"dispatched": 2, "rectification": 1}
    by_status = table_dict(page, "disputes-by-status")
    assert {k: v for k, v in by_status.items() if v != "0"} == {"待分办": "2", "企业整改中": "1"}
    assert sum(int(v) for v in by_status.values()) == len(open_ones)

    check_open_cases(page, open_tasks(HumanTask.street_office_id == street.id))

    takeovers = db.session.scalars(db.select(EmergencyTakeover).where(
        EmergencyTakeover.street_office_id == street.id)).all()
    assert [t.status for t in takeovers] == ["proposing"]
    by_status = table_dict(page, "takeovers-by-status")
    assert by_status["待提出人选"] == "1" and sum(int(v) for v in by_status.values()) == len(takeovers)
    assert [row[:2] for row in table_rows(page, "open-takeovers")[1:]] == [["民族花园", "待提出人选"]]


def test_the_enterprise_sees_its_own_escrow_cases_and_scores_only(scene, login_as, bank_url):
    page = login_as("enterprise", org=scene["enterprise"]).get("/").get_data(as_text=True)
    positions = table_rows(page, "positions")
    assert [row[0] for row in positions[1:]] == ["世纪华庭"]
    assert bank_balance(bank_url, scene["account"].account_no) == Decimal("0.00")
    assert positions[1][1:] == ["0.00", "50,000.00", "0.00"]
    assert table_dict(page, "disbursed") == {next(iter(table_dict(page, "disbursed"))): "¥ 130,000.00"}
    assert "峒河湾" not in page

    mine = open_tasks(HumanTask.role == "enterprise", HumanTask.enterprise_id == scene["enterprise"].id)
    assert [t.spec_id for t in mine] == ["rectify"]  # the fee complaint's rectification
    check_open_cases(page, mine)

    assert page.count('data-testid="own-stars">4 星') == 1
    assert scene["enterprise"].star_rating == 4
    scores = {ev.community.name: ev.total for ev in db.session.scalars(db.select(Evaluation).where(
        Evaluation.enterprise_id == scene["enterprise"].id))}
    assert {k: Decimal(v) for k, v in table_dict(page, "scores").items()} == scores == {"世纪华庭": Decimal("92.50")}

    other = login_as("enterprise", org=scene["other"]).get("/").get_data(as_text=True)
    assert [row[0] for row in table_rows(other, "positions")[1:]] == ["峒河湾"]
    assert "世纪华庭" not in other and table_rows(other, "disbursed") == [["没有记录。"]]
    assert table_dict(other, "scores") == {"峒河湾": "78.00"} and 'data-testid="own-stars">2 星' in other
    assert "没有办理中的案件" in other  # its complaint is still with the street office


def test_the_bank_sees_its_own_instructions_only(scene, login_as):
    def by_status(bank):
        rows = db.session.execute(db.select(BankInstruction.status, db.func.count(), db.func.sum(BankInstruction.amount))
                                  .where(BankInstruction.bank_id == bank.id).group_by(BankInstruction.status)).all()
        return {status: (n, total) for status, n, total in rows}

    page = login_as("bank", org=scene["bank"]).get("/").get_data(as_text=True)
    executed = by_status(scene["bank"])["success"]
    assert executed == (3, Decimal("180000.00"))  # disbursement, year-end release and cut
    assert table_dict(page, "instructions-by-status")["已执行"] == "3"
    amounts = {row[0]: row[1:] for row in table_rows(page, "instruction-amounts")[1:]}
    assert amounts["已执行"] == ["3", money(executed[1])]
    assert page.count('data-testid="bank-accounts">1<') == 1
    assert table_rows(page, "pending-instructions")[1:] == [["没有待执行的指令。"]]

    pending = db.session.scalars(db.select(BankInstruction).where(
        BankInstruction.bank_id == scene["other_bank"].id, BankInstruction.status.in_(("created", "processing")))).all()
    assert [(i.kind, i.amount) for i in pending] == [("disbursement", Decimal("10000.00"))]
    other = login_as("bank", org=scene["other_bank"]).get("/").get_data(as_text=True)
    assert table_dict(other, "instructions-by-status")["已执行"] == "0"
    assert table_dict(other, "instructions-by-status")["银行处理中"] == "1"
    assert table_rows(other, "pending-instructions")[1:] == [
        [i.reference, i.to_name, money(i.amount), "银行处理中"] for i in pending]
    own_references = db.session.scalars(db.select(BankInstruction.reference).where(
        BankInstruction.bank_id == scene["bank"].id)).all()
    assert all(reference not in other for reference in own_references)


def test_a_role_without_a_dashboard_sees_the_plain_home_page(login_as):
    page = login_as("mediator").get("/").get_data(as_text=True)
    assert "wuye-chart" not in page and "echarts" not in page
