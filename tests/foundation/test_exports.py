"""Every list page exports what it shows, to whom it shows it, as Excel: same filters, all
pages, the user's scope; each export is in the audit log."""
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models import AuditEvent, BankInstruction
from tests.escrow.conftest import approve_a_disbursement, bank_url, processes, setup  # noqa: F401 (fixtures)


def sheet(response) -> list[tuple]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))


@pytest.fixture
def two_enterprises(factory):
    a = factory.enterprise(name="乾元物业")
    b = factory.enterprise(name="峒河物业")
    ca = factory.community(enterprise=a, name="世纪华庭", fee="1000000.00")
    cb = factory.community(enterprise=b, name="峒河湾")
    return a, b, ca, cb


@pytest.mark.parametrize("path, header", [
    ("/enterprises", ("企业名称", "统一社会信用代码", "备案状态", "资金监管", "风险状态", "星级", "住所")),
    ("/communities", ("小区名称", "街道办事处", "物业企业", "户数", "年度应收物业费（元）")),
    ("/cases", ("#", "案件", "流程", "状态", "发起时间")),
    ("/inbox?tab=all", ("案件", "任务", "流程", "发起时间", "期限", "签收人")),
    ("/escrow/", ("小区", "物业企业", "托管银行", "余额（元）", "保证金下限（元）")),
    ("/escrow/instructions", ("指令编号", "小区", "收款方", "金额（元）", "用途", "状态", "银行流水", "生成时间")),
    ("/filing", ("企业", "统一社会信用代码", "方式", "状态", "轮次", "备案期限")),
    ("/high-risk", ("企业", "状态", "列入理由", "列入日期", "移出日期")),
    ("/disputes/", ("受理时间", "来源", "工单编号", "小区", "物业企业", "类别", "状态", "紧急", "调解员")),
    ("/contracts/", ("小区", "物业企业", "类型", "状态", "轮次", "合同起始", "合同届满", "办理期限")),
    ("/takeovers/", ("小区", "街道办事处", "应急服务企业", "状态", "服务期起", "服务期止", "下一期限", "期限时间")),
    ("/devices/repairs", ("设备", "位置", "小区", "故障", "故障时间", "维修期限", "超期", "供应商", "状态")),
    ("/devices/plans", ("方案", "小区", "物业企业", "供应商", "银行", "建设费用（元）", "状态")),
    ("/admin/audit", ("时间", "操作人", "操作", "对象", "变更前", "变更后", "IP")),
])
def test_each_list_page_offers_its_export(login_as, two_enterprises, path, header):
    center = login_as("housing_center", roles=["housing_center", "admin"])
    page = center.get(path).get_data(as_text=True)
    assert 'data-testid="export-xlsx"' in page
    glue = "&" if "?" in path else "?"
    assert sheet(center.get(f"{path}{glue}format=xlsx"))[0] == header


def test_the_export_follows_the_filters_and_the_users_scope(login_as, two_enterprises):
    a, b, ca, cb = two_enterprises
    center = login_as("housing_center")
    rows = sheet(center.get("/communities?format=xlsx"))
    assert [r[0] for r in rows[1:]] == ["世纪华庭", "峒河湾"]
    assert rows[1][4] == Decimal("1000000.00")  # a number, not text
    assert [r[0] for r in sheet(center.get("/enterprises?q=峒河&format=xlsx"))[1:]] == ["峒河物业"]

    own = login_as("enterprise", org=a)
    assert [r[0] for r in sheet(own.get("/communities?format=xlsx"))[1:]] == ["世纪华庭"]
    assert [r[0] for r in sheet(own.get("/enterprises?format=xlsx"))[1:]] == ["乾元物业"]
    street = login_as("street_office", org=cb.street_office)
    assert [r[0] for r in sheet(street.get("/communities?format=xlsx"))[1:]] == ["峒河湾"]


def test_an_export_is_refused_where_the_page_is_and_is_audited(login_as, two_enterprises):
    enterprise = login_as("enterprise", org=two_enterprises[0])
    for path in ("/admin/audit?format=xlsx", "/admin/users?format=xlsx", "/high-risk?format=xlsx",
                 "/escrow/instructions?format=xlsx"):
        assert enterprise.get(path).status_code == 403, path
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "list.exported")) == 0

    admin = login_as("admin")
    rows = sheet(admin.get("/admin/users?format=xlsx"))
    assert rows[0] == ("用户名", "姓名", "角色", "状态") and len(rows) == 3  # the enterprise user and the admin
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "list.exported"))
    assert event.actor_name == admin.user.username and event.after["list"] == "users" and event.after["rows"] == 2


def test_a_bank_exports_its_own_instructions_only(login_as, factory, setup, bank_url):
    approve_a_disbursement(setup, bank_url, factory)
    instruction = db.session.scalar(db.select(BankInstruction))
    rows = sheet(login_as("bank", org=setup["bank"]).get("/escrow/instructions?format=xlsx"))
    assert [r[0] for r in rows[1:]] == [instruction.reference]
    assert rows[1][3] == Decimal("130000.00") and rows[1][5] == "已执行"
    assert sheet(login_as("bank").get("/escrow/instructions?format=xlsx"))[1:] == []
