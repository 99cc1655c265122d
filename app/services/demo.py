"""A realistic Jishou demo data set. Idempotent: running it twice changes nothing."""
from decimal import Decimal

from app.extensions import db
from app.models import Bank, Community, Department, DeviceSupplier, Enterprise, OwnersCommittee, StreetOffice, User
from app.roles import DEPARTMENT_ROLES, ROLES, role_name
from app.services import orgs, users
from app.validators import id_check_char, uscc_check_char

DEMO_PASSWORD = "Wuye2026demo"

STREET_OFFICES = ["乾州街道", "峒河街道", "石家冲街道", "镇溪街道", "双塘街道"]
ENTERPRISES = [
    "吉首市乾元物业服务有限公司", "湘西峒河物业管理有限公司", "吉首市德馨物业服务有限公司",
    "湖南武陵山物业服务有限公司", "吉首市万溪物业管理有限公司", "湘西州和顺物业服务有限公司",
    "吉首市锦绣家园物业管理有限公司", "吉首市安居物业服务有限公司", "湘西凤鸣物业管理有限公司",
    "吉首市城投物业服务有限公司",
]
COMMUNITY_STEMS = ["世纪华庭", "乾州新城", "峒河湾", "民族花园", "万溪江畔", "德夯小区", "人民北路小区",
                   "湘泉佳苑", "金叶华府", "阳光新城", "紫薇园", "滨江名苑", "龙腾小区", "和谐家园", "丰达花园"]
BANKS = [("湖南吉首农村商业银行", "JSRCB"), ("中国建设银行吉首分行", "CCBJS")]


def demo_uscc(n: int) -> str:
    first17 = f"914331{n:03d}{n * 7919 % 100000000:08d}"[:17]
    return first17 + uscc_check_char(first17)


def demo_id_number(n: int) -> str:
    first17 = f"433101{1970 + n % 30}{(n % 12) + 1:02d}{(n % 27) + 1:02d}{n % 1000:03d}"
    return first17 + id_check_char(first17)


def _get_or_add(model, lookup: dict, **values):
    obj = db.session.scalar(db.select(model).filter_by(**lookup))
    if obj is None:
        obj = model(**lookup, **values)
        db.session.add(obj)
        db.session.flush()
    return obj


def seed() -> list[tuple[str, str, str]]:
    """Creates the demo data if missing; returns (username, password, role name) logins."""
    for code in DEPARTMENT_ROLES:
        _get_or_add(Department, {"code": code}, name=str(ROLES[code]))
    offices = [_get_or_add(StreetOffice, {"name": name}, district="吉首市") for name in STREET_OFFICES]
    banks = [_get_or_add(Bank, {"code": code}, name=name) for name, code in BANKS]
    supplier = _get_or_add(DeviceSupplier, {"uscc": demo_uscc(900)}, name="湘西智联科技有限公司")
    db.session.commit()

    enterprises = []
    for i, name in enumerate(ENTERPRISES, start=1):
        uscc = demo_uscc(i)
        e = db.session.scalar(db.select(Enterprise).where(Enterprise.uscc == uscc))
        if e is None:
            e = orgs.create_enterprise({"name": name, "uscc": uscc, "legal_rep_name": f"法人{i}",
                                        "legal_rep_id_number": demo_id_number(i), "contact_name": f"联系人{i}",
                                        "contact_phone": f"1387430{i:04d}", "address": f"吉首市人民路 {i * 10} 号",
                                        "is_public_benefit": i == 10})
        enterprises.append(e)
    # Most demo enterprises have filed; enterprise2's and two others have not, to show filing.
    for i, e in enumerate(enterprises):
        if i not in (1, 8, 9) and e.filing_status == "unfiled":
            e.filing_status = "filed"
    communities = []
    for i in range(30):
        office = offices[i % len(offices)]
        name = COMMUNITY_STEMS[i % len(COMMUNITY_STEMS)] + ("" if i < len(COMMUNITY_STEMS) else "二期")
        c = db.session.scalar(db.select(Community).filter_by(street_office_id=office.id, name=name))
        if c is None:
            households = 200 + (i * 37) % 900
            c = orgs.create_community({"name": name, "street_office_id": office.id, "address": f"{office.name}{name}",
                                       "enterprise_id": enterprises[i % len(enterprises)].id,
                                       "households": households, "floor_area": households * 95,
                                       "annual_receivable_fee": Decimal(households * 95 * 12) * Decimal("1.20")})
        communities.append(c)
    for c in communities[:10]:
        _get_or_add(OwnersCommittee, {"community_id": c.id}, name=f"{c.name}业主委员会")
    db.session.commit()

    committee = db.session.scalar(db.select(OwnersCommittee).where(OwnersCommittee.community_id == communities[0].id))
    org_for = {"enterprise": enterprises[0].id, "bank": banks[0].id, "device_supplier": supplier.id,
               "owners_committee": committee.id, "street_office": offices[0].id, "owner": communities[0].id}
    logins = []
    for role in ROLES:
        username = role.replace("_", "")[:20] if role != "housing_center" else "zhubao"
        if not db.session.scalar(db.select(User.id).where(User.username == username)):
            users.create_user(username, DEMO_PASSWORD, [role], display_name=f"{role_name(role)}演示用户",
                              org_id=org_for.get(role))
        logins.append((username, DEMO_PASSWORD, role_name(role)))
    # A second enterprise account, to show that enterprises see only their own records.
    if not db.session.scalar(db.select(User.id).where(User.username == "enterprise2")):
        users.create_user("enterprise2", DEMO_PASSWORD, ["enterprise"], display_name=f"{enterprises[1].name}",
                          org_id=enterprises[1].id)
    logins.append(("enterprise2", DEMO_PASSWORD, role_name("enterprise") + " 2"))
    _seed_disputes(offices[0], communities[0])
    _seed_contracts(communities)
    logins.append(_seed_takeover(offices[0], enterprises))
    from app.services.devices import seed_demo as seed_devices
    seed_devices(supplier, communities, banks[0])
    from app.services.scoring import seed_default as seed_scoring_standard
    from app.engine.calendar import SHANGHAI, now
    seed_scoring_standard(now().astimezone(SHANGHAI).year)  # the year's default scoring standard (评分标准)
    from app.services import inspections, surveys
    inspections.seed_demo(communities[0])
    surveys.seed_demo(communities[0])
    from app.services.fees import seed_demo as seed_fees
    seed_fees(communities[0])
    return logins


def _seed_disputes(office, community) -> None:
    """The demo mediator sits on the first street's committee; two 12345 work orders wait,
    one matched to a community and one for the housing center's triage."""
    from app.models import Dispute, ProcessModel, StreetMediator
    from app.services import disputes
    mediator = db.session.scalar(db.select(User).where(User.username == "mediator"))
    if mediator and db.session.get(StreetMediator, mediator.id) is None:
        disputes.register_mediator(mediator.id, office.id)
    deployed = db.session.scalar(db.select(ProcessModel.id).where(ProcessModel.key == disputes.PROCESS))
    if not deployed or db.session.scalar(db.select(Dispute.id).limit(1)):
        return
    disputes.receive_work_order({"work_order_no": "GD-DEMO-0001", "caller_name": "李女士",
                                 "caller_phone": "13874301234", "address": f"吉首市{community.address} 3 栋",
                                 "category": "公共设施维修", "content": "3 栋电梯停运一周，物业未维修。"})
    disputes.receive_work_order({"work_order_no": "GD-DEMO-0002", "caller_name": "王先生",
                                 "caller_phone": "13900001111", "address": "吉首市某小区（地址不详）",
                                 "category": "物业收费", "content": "物业多收停车费，要求退还。"})


def _seed_contracts(communities) -> None:
    """The model texts; and for the demo enterprise: a contract filed and ending within 90
    days (on the center's dashboard), one waiting for review, and one community guided to
    sign (the owners' committee confirms)."""
    import io
    from datetime import timedelta

    from werkzeug.datastructures import FileStorage

    from app.engine import runtime
    from app.models import Contract, HumanTask, ProcessModel
    from app.services import contract_templates, contracts
    from app.services.documents import render_pdf
    contract_templates.ensure_default_templates()
    deployed = db.session.scalar(db.select(ProcessModel.id).where(ProcessModel.key == contracts.PROCESS))
    if not deployed or db.session.scalar(db.select(Contract.id).limit(1)):
        return
    enterprise_user = db.session.scalar(db.select(User).where(User.username == "enterprise"))
    center = db.session.scalar(db.select(User).where(User.username == "zhubao"))
    pdf = render_pdf("documents/contract_template.html", model=contract_templates.current("regular"))
    today = contracts.today()

    def submit(community, ends_on):
        data = {"kind": "regular", "community_id": community.id, "party_a": f"{community.name}业主委员会",
                "signed_on": ends_on - timedelta(days=3 * 365 + 5), "starts_on": ends_on - timedelta(days=3 * 365),
                "ends_on": ends_on, "fee_per_sqm": "1.20", "service_level": "level2"}
        upload = FileStorage(stream=io.BytesIO(pdf), filename="物业服务合同（签章版）.pdf", content_type="application/pdf")
        return contracts.submit_contract(enterprise_user, data, upload)

    filed = submit(communities[20], today + timedelta(days=60))
    review = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == filed.instance_id,
                                                          HumanTask.status == "open"))
    runtime.complete_task(review.id, {"decision": "accept", "checklist": contract_templates.CHECKLIST_CODES,
                                      "comment": "条款齐全，准予备案"}, center)
    submit(communities[10], today + timedelta(days=3 * 365))
    contracts.start_guidance(center, communities[0].id, "regular", contracts.GUIDANCE_DAYS,
                             "巡查发现该小区物业服务企业尚未与业主委员会签订物业服务合同")
def _seed_takeover(office, enterprises) -> tuple[str, str, str]:
    """The first street's head, who approves its emergency takeovers; three filed demo
    enterprises count as under escrow supervision (the demo signs no escrow agreements),
    so takeovers and the recommendation list have eligible enterprises to show."""
    from app.models import StreetOfficeHead
    from app.services import takeover
    if not db.session.scalar(db.select(User.id).where(User.username == "streethead")):
        users.create_user("streethead", DEMO_PASSWORD, ["street_office"], display_name=f"{office.name}负责人",
                          org_id=office.id)
    head = db.session.scalar(db.select(User).where(User.username == "streethead"))
    if db.session.get(StreetOfficeHead, head.id) is None:
        takeover.register_head(head.id, office.id)
    for e in (enterprises[0], enterprises[2], enterprises[3]):
        e.under_supervision = True
    db.session.commit()
    return "streethead", DEMO_PASSWORD, f"{office.name}负责人"
