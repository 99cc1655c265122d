"""Every list page exports what it shows, to whom it shows it, as Excel: same filters, all
pages, the user's scope; each export is in the audit log."""
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.engine.calendar import SHANGHAI, now
from app.engine.deploy import deploy
from app.extensions import db
from app.models import AuditEvent, BankInstruction, Evaluation, SupplierRecord
from app.services import devices, disputes, notify, scoring
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
    ("/devices/", ("设备序列号", "类型", "小区", "位置", "供应商", "型号", "安装日期", "维保期至", "产权人", "状态",
                   "最近上报")),
    ("/devices/records", ("记录时间", "供应商", "事项", "说明", "分值", "有效期至")),
    ("/credit/", ("物业企业", "统一社会信用代码", "有效良好记录", "有效不良记录", "有效分值")),
    ("/evaluation/", ("年度", "物业企业", "小区", "状态", "得分", "星级", "小区等级")),
    ("/takeovers/recommendations", ("排名", "企业", "星级", "诚信档案分值", "良好记录", "不良记录", "不予推荐的原因")),
    ("/disputes/stats", ("统计口径", "项目", "数值")),
    ("/notifications", ("时间", "类别", "标题", "内容", "已读时间")),
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


def exported(user) -> list[dict]:
    return [e.after for e in db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "list.exported", AuditEvent.actor_id == user.id))]


def test_the_device_registry_and_supplier_records_export_what_each_role_sees(login_as, factory, two_enterprises):
    a, b, ca, cb = two_enterprises
    supplier, other = factory.supplier(), factory.supplier()
    center_user = factory.user("housing_center")
    for serial, owner, community in (("SN-1", supplier, ca), ("SN-2", other, cb)):
        devices.register_device(center_user, {"supplier_id": owner.id, "community_id": community.id, "kind": "access",
                                              "serial": serial, "model": "ZL-2000", "location": "东门",
                                              "installed_on": date(2026, 1, 5), "warranty_until": date(2029, 1, 4)})
    for owner in (supplier, other):
        db.session.add(SupplierRecord(supplier_id=owner.id, kind="repair_overdue", title=f"{owner.name} 维修超时",
                                      points=Decimal("-2.00"), valid_until=date(2027, 1, 5)))
    db.session.commit()

    center = login_as("housing_center")
    rows = sheet(center.get("/devices/?format=xlsx"))
    assert sorted(r[0] for r in rows[1:]) == ["SN-1", "SN-2"]
    first = next(r for r in rows[1:] if r[0] == "SN-1")
    assert first[1:9] == ("门禁", "世纪华庭", "东门", supplier.name, "ZL-2000", datetime(2026, 1, 5),
                          datetime(2029, 1, 4), "物业服务企业") and first[9] == "离线"  # Excel dates read back as datetimes
    own = login_as("device_supplier", org=supplier)
    assert [r[0] for r in sheet(own.get("/devices/?format=xlsx"))[1:]] == ["SN-1"]
    assert [r[0] for r in sheet(login_as("enterprise", org=b).get("/devices/?format=xlsx"))[1:]] == ["SN-2"]
    assert login_as("owner").get("/devices/?format=xlsx").status_code == 403
    assert exported(own.user) == [{"list": "devices", "rows": 1, "filters": {}}]

    records = sheet(own.get("/devices/records?format=xlsx"))
    assert [(r[1], r[2], r[4]) for r in records[1:]] == [(supplier.name, f"{supplier.name} 维修超时", Decimal("-2.00"))]
    assert len(sheet(center.get("/devices/records?format=xlsx"))) == 3
    assert login_as("enterprise", org=a).get("/devices/records?format=xlsx").status_code == 403


def test_evaluations_and_credit_files_export_in_the_users_scope(login_as, factory, two_enterprises):
    a, b, ca, cb = two_enterprises
    year = now().astimezone(SHANGHAI).year
    standard = scoring.seed_default(year)
    db.session.flush()
    for enterprise, community, total in ((a, ca, "92.50"), (b, cb, "78.00")):
        db.session.add(Evaluation(year=year, standard_id=standard.id, enterprise_id=enterprise.id,
                                  community_id=community.id, status="disclosure", scoring_due=date(year, 12, 15),
                                  total=Decimal(total), star_rating=4, grade="A"))
    db.session.commit()
    center = login_as("housing_center")
    rows = sheet(center.get(f"/evaluation/?year={year}&format=xlsx"))
    assert [r[1:5] for r in rows[1:]] == [("乾元物业", "世纪华庭", "公示中", Decimal("92.50")),
                                          ("峒河物业", "峒河湾", "公示中", Decimal("78.00"))]
    assert sheet(center.get(f"/evaluation/?year={year - 1}&format=xlsx"))[1:] == []  # the year filter holds
    mine = sheet(login_as("enterprise", org=b).get(f"/evaluation/?year={year}&format=xlsx"))
    assert [r[1] for r in mine[1:]] == ["峒河物业"]

    credit = sheet(center.get("/credit/?format=xlsx"))
    assert sorted(r[0] for r in credit[1:]) == ["乾元物业", "峒河物业"] and credit[1][2:] == (0, 0, Decimal("0"))
    own = login_as("enterprise", org=a).get("/credit/?format=xlsx")  # an enterprise has no list: its own file
    assert own.status_code == 302 and own.headers["Location"].endswith(f"/credit/{a.id}")


def test_dispute_statistics_and_notifications_export_the_users_own(login_as, factory, two_enterprises):
    from pathlib import Path
    a, b, ca, cb = two_enterprises
    bpmn = Path(__file__).resolve().parents[2] / "bpmn" / "dispute_mediation.bpmn"
    deploy("dispute_mediation", bpmn.read_text(encoding="utf-8"))
    for number, address, category in (("GD-1", "世纪华庭 3 栋", "物业收费"), ("GD-2", "世纪华庭 5 栋", "物业收费"),
                                      ("GD-3", "峒河湾 1 栋", "环境卫生")):
        disputes.receive_work_order({"work_order_no": number, "address": f"吉首市{address}", "category": category,
                                     "content": "请物业处理。", "caller_name": "李女士", "caller_phone": "13874301234"})
    rows = sheet(login_as("housing_center").get("/disputes/stats?format=xlsx"))
    assert ("概况", "案件总数", 3) in rows and ("按类别", "物业收费", 2) in rows and ("按类别", "环境卫生", 1) in rows
    street = login_as("street_office", org=cb.street_office)
    own = sheet(street.get("/disputes/stats?format=xlsx"))
    assert ("概况", "案件总数", 1) in own and ("按小区", "峒河湾", 1) in own
    assert not any(r[1] in ("世纪华庭", "物业收费") for r in own)
    assert login_as("enterprise", org=a).get("/disputes/stats?format=xlsx").status_code == 403

    notify.notify(street.user, "task", "新任务：研判工单 GD-3", "请在期限内办理。")
    notify.notify(factory.user("housing_center"), "task", "别人的消息", "")
    db.session.commit()
    mine = sheet(street.get("/notifications?format=xlsx"))
    assert [(r[1], r[2], r[3], r[4]) for r in mine[1:]] == [("新任务", "新任务：研判工单 GD-3", "请在期限内办理。", None)]
    assert exported(street.user)[-1] == {"list": "notifications", "rows": 1, "filters": {}}
