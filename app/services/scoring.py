"""The scoring standard (《吉首市物业服务企业评分标准》, policy 三(三)) as data, one version per
year: sections, items with their maximum points, deduction rules and the department (role
code) that scores each, and bonus items that can lift a total above 100. The housing center
edits it until that year's evaluation opens; then it is locked so every score stays
reproducible. Excel in and out, so the departments can review it offline."""
import io
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from app.extensions import db
from app.models import ScoringItem, ScoringSection, ScoringStandard
from app.roles import DEPARTMENT_ROLES, ROLES_ZH, role_for_lane
from app.services import audit
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.tabular import read_table

# Departments that score items (policy 三(三)): the center, the partner bureaus, street offices.
SCORING_DEPARTMENTS = (*DEPARTMENT_ROLES, "street_office")

COLUMNS = {"分项编号": "section_code", "分项名称": "section_title", "条目编号": "code", "考评内容": "description",
           "分值": "max_points", "扣分标准": "deduction_rules", "评分部门": "department", "加分项": "is_bonus"}
REQUIRED = ("分项编号", "分项名称", "条目编号", "考评内容", "分值", "评分部门")
YES = {"是", "y", "yes", "true", "1", "加分"}

# The default standard, from the policy's evaluation content: the departments it names score
# what they supervise; owner satisfaction and daily inspections feed in through their items.
DEFAULT = [
    ("A", "企业管理与备案", [
        ("A1", "企业在市住保中心备案，备案信息真实完整、变更及时", "10", "未备案扣 10 分；信息不实或变更未报每项扣 2 分",
         "housing_center"),
        ("A2", "物业服务合同依法签订并备案，服务内容与收费标准公示", "10", "合同未备案扣 5 分；未公示扣 3 分", "housing_center"),
        ("A3", "服务费纳入专项资金监管，履约保证金不低于应收总额 5%", "10", "未纳入监管扣 10 分；保证金不足扣 5 分",
         "housing_center"),
    ]),
    ("B", "物业服务质量", [
        ("B1", "公共区域保洁、绿化养护达到合同约定标准", "10", "日常考核发现问题每处扣 1 分", "street_office"),
        ("B2", "公共设施设备（电梯、门禁、监控）运行正常，故障 24 小时内修复", "10", "超时修复每次扣 2 分",
         "housing_center"),
        ("B3", "业主投诉（含 12345 热线）及时处理，回访满意", "10", "核实投诉每件扣 1 分", "street_office"),
    ]),
    ("C", "安全与规划管理", [
        ("C1", "消防设施完好，消防通道畅通，定期开展消防演练", "10", "通道堵塞每次扣 2 分；设施损坏每处扣 1 分",
         "fire_brigade"),
        ("C2", "小区规划用途、公共用地与配套设施未被擅自改变", "5", "违规改变用途每处扣 2 分", "natural_resources"),
        ("C3", "企业依法经营，收费行为规范，明码标价", "5", "违规收费每次扣 2 分", "market_regulation"),
    ]),
    ("D", "业主满意度", [
        ("D1", "年度业主满意度测评（日常考核与满意度调查结果计入）", "20", "按满意度比例折算", "housing_center"),
    ]),
    ("E", "加分项", [
        ("E1", "获市级以上表彰或创建星级示范小区", "5", "市级 3 分，省级以上 5 分", "housing_center", True),
        ("E2", "主动承接应急小区服务或公益性基础服务", "3", "每承接一个小区 1 分", "street_office", True),
    ]),
]


def _money(value, field: str, errors: dict) -> Decimal | None:
    try:
        points = Decimal(str(value).strip()).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors[field] = _("分值须为数字。")
        return None
    if points <= 0 or points > 100:
        errors[field] = _("分值须大于 0 且不超过 100。")
        return None
    return points


def _department(value: str) -> str | None:
    role = role_for_lane(value)
    return role if role in SCORING_DEPARTMENTS else None


def for_year(year: int) -> ScoringStandard | None:
    return db.session.scalar(db.select(ScoringStandard).where(ScoringStandard.year == year))


def get(standard_id: int) -> ScoringStandard:
    standard = db.session.get(ScoringStandard, standard_id)
    if standard is None:
        raise NotFound(_("评分标准不存在。"))
    return standard


def standards() -> list[ScoringStandard]:
    return list(db.session.scalars(db.select(ScoringStandard).order_by(ScoringStandard.year.desc())))


def _require_center(user) -> None:
    if user is not None and not user.has_role("housing_center", "admin"):
        raise Forbidden(_("只有住保中心可以管理评分标准。"))


def _editable(standard: ScoringStandard) -> None:
    if standard.locked:
        raise Conflict(_("%(year)d 年度考评已开始，评分标准已锁定，不能修改。", year=standard.year))


def create(user, year: int, title: str = "", copy_from: int | None = None) -> ScoringStandard:
    """A new year's standard: empty, or a copy of an earlier year's."""
    _require_center(user)
    if not 2000 <= int(year) <= 2100:
        raise ValidationFailed(_("年度有误。"), {"year": _("请填写 2000–2100 之间的年度。")})
    if for_year(year) is not None:
        raise ValidationFailed(_("该年度已有评分标准。"), {"year": _("该年度已有评分标准。")})
    standard = ScoringStandard(year=year, title=title.strip() or _("%(year)d 年度吉首市物业服务企业评分标准", year=year))
    db.session.add(standard)
    db.session.flush()
    source = for_year(copy_from) if copy_from else None
    if source is not None:
        _replace(standard, [_row(item) for item in source.items])
    audit.record("scoring.standard_created", standard, after={"year": year, "copied_from": copy_from}, actor=user)
    db.session.commit()
    return standard


def _row(item: ScoringItem) -> dict:
    return {"section_code": item.section.code, "section_title": item.section.title, "code": item.code,
            "description": item.description, "max_points": item.max_points, "deduction_rules": item.deduction_rules,
            "department": item.department, "is_bonus": item.is_bonus}


def _replace(standard: ScoringStandard, rows: list[dict]) -> None:
    for item in list(standard.items):
        db.session.delete(item)
    for section in list(standard.sections):
        db.session.delete(section)
    db.session.flush()
    sections: dict[str, ScoringSection] = {}
    for position, row in enumerate(rows):
        section = sections.get(row["section_code"])
        if section is None:
            section = ScoringSection(standard_id=standard.id, code=row["section_code"], title=row["section_title"],
                                     position=len(sections))
            db.session.add(section)
            db.session.flush()
            sections[row["section_code"]] = section
        db.session.add(ScoringItem(standard_id=standard.id, section_id=section.id, code=row["code"],
                                   description=row["description"], max_points=row["max_points"],
                                   deduction_rules=row.get("deduction_rules") or "", department=row["department"],
                                   is_bonus=bool(row.get("is_bonus")), position=position))
    db.session.flush()
    db.session.expire(standard, ["items", "sections"])


def _check_rows(rows: list[dict]) -> tuple[list[dict], list[str]]:
    problems, clean, codes = [], [], set()
    for number, row in enumerate(rows, start=2):
        errors: dict = {}
        for key, label in (("section_code", "分项编号"), ("section_title", "分项名称"), ("code", "条目编号"),
                           ("description", "考评内容")):
            if not (row.get(key) or "").strip():
                errors[key] = _("缺少“%(col)s”。", col=label)
        points = _money(row.get("max_points", ""), "max_points", errors)
        department = _department(row.get("department", ""))
        if department is None:
            errors["department"] = _("评分部门“%(d)s”不是考评部门。", d=row.get("department", ""))
        code = (row.get("code") or "").strip()
        if code in codes:
            errors["code"] = _("条目编号“%(code)s”重复。", code=code)
        codes.add(code)
        if errors:
            problems.append(_("第 %(n)d 行：", n=number) + "；".join(str(v) for v in errors.values()))
            continue
        clean.append({"section_code": row["section_code"].strip()[:20],
                      "section_title": row["section_title"].strip()[:200],
                      "code": code[:20], "description": row["description"].strip()[:500], "max_points": points,
                      "deduction_rules": (row.get("deduction_rules") or "").strip(), "department": department,
                      "is_bonus": (row.get("is_bonus") or "").strip().lower() in YES})
    base = sum((r["max_points"] for r in clean if not r["is_bonus"]), Decimal("0"))
    if clean and not problems and base != Decimal("100"):
        problems.append(_("非加分项满分合计须为 100 分（现为 %(n)s 分）。", n=base))
    return clean, problems


def import_table(user, standard_id: int, filename: str, content: bytes) -> int:
    """Replace the standard's items with an uploaded table; any bad row refuses the whole file."""
    _require_center(user)
    standard = get(standard_id)
    _editable(standard)
    rows = read_table(filename, content, COLUMNS, REQUIRED)
    clean, problems = _check_rows(rows)
    if not clean and not problems:
        problems.append(_("文件中没有考评条目。"))
    if problems:
        text = "；".join(str(p) for p in problems[:20])
        raise ValidationFailed(_("评分标准文件有误，未导入：") + text, {"file": text})
    _replace(standard, clean)
    audit.record("scoring.standard_imported", standard, after={"items": len(clean), "file": filename}, actor=user)
    db.session.commit()
    return len(clean)


def export_xlsx(standard: ScoringStandard) -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = str(standard.year)
    sheet.append(list(COLUMNS))
    for item in standard.items:
        sheet.append([item.section.code, item.section.title, item.code, item.description, float(item.max_points),
                      item.deduction_rules, ROLES_ZH.get(item.department, item.department),
                      "是" if item.is_bonus else ""])
    for column, width in zip("ABCDEFGH", (8, 16, 8, 50, 6, 40, 14, 6)):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def add_item(user, standard_id: int, data: dict) -> ScoringItem:
    """One more item (its section is created when new)."""
    _require_center(user)
    standard = get(standard_id)
    _editable(standard)
    row = {k: "" if data.get(k) is None else str(data.get(k)) for k in COLUMNS.values()}
    row["is_bonus"] = "是" if data.get("is_bonus") else ""
    clean, problems = _check_rows([row])
    problems = [p for p in problems if "100" not in str(p)]  # the sum is checked when the year opens
    if clean and any(item.code == clean[0]["code"] for item in standard.items):
        problems.append(_("条目编号“%(code)s”重复。", code=clean[0]["code"]))
    if problems:
        raise ValidationFailed(_("考评条目有误。"), {"code": str(problems[0])})
    _replace(standard, [_row(item) for item in standard.items] + clean)
    item = db.session.scalar(db.select(ScoringItem).where(ScoringItem.standard_id == standard.id,
                                                          ScoringItem.code == clean[0]["code"]))
    audit.record("scoring.item_added", item, after={"code": item.code, "max_points": item.max_points,
                                                    "department": item.department}, actor=user)
    db.session.commit()
    return item


def delete_item(user, item_id: int) -> None:
    _require_center(user)
    item = db.session.get(ScoringItem, item_id)
    if item is None:
        raise NotFound(_("考评条目不存在。"))
    _editable(item.standard)
    audit.record("scoring.item_deleted", item, before={"code": item.code}, actor=user)
    db.session.delete(item)
    db.session.commit()


def check_complete(standard: ScoringStandard) -> None:
    """A standard an evaluation can open on: items whose non-bonus maxima add up to 100."""
    base = sum((i.max_points for i in standard.items if not i.is_bonus), Decimal("0"))
    if base != Decimal("100"):
        raise ValidationFailed(_("评分标准非加分项满分合计须为 100 分（现为 %(n)s 分）。", n=base),
                               {"year": _("评分标准不完整。")})


def departments(standard: ScoringStandard) -> list[str]:
    """The departments that score this standard, in a stable order."""
    used = {item.department for item in standard.items}
    return [d for d in SCORING_DEPARTMENTS if d in used]


def items_of(standard: ScoringStandard, department: str) -> list[ScoringItem]:
    return [item for item in standard.items if item.department == department]


def seed_default(year: int) -> ScoringStandard:
    """The default standard for a year (demo data and a fresh installation)."""
    standard = for_year(year)
    if standard is not None:
        return standard
    standard = ScoringStandard(year=year, title=f"{year} 年度吉首市物业服务企业评分标准")
    db.session.add(standard)
    db.session.flush()
    rows = [{"section_code": code, "section_title": title, "code": entry[0], "description": entry[1],
             "max_points": Decimal(entry[2]), "deduction_rules": entry[3], "department": entry[4],
             "is_bonus": len(entry) > 5 and entry[5]}
            for code, title, entries in DEFAULT for entry in entries]
    _replace(standard, rows)
    db.session.commit()
    return standard
