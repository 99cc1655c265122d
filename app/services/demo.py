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
    return logins
