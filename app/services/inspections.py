"""Daily inspections (日常考核, policy 三(三)) and what they feed into the annual evaluation.

Inspectors of any department record an inspection of a community; each finding deducts
points and gets a rectification deadline in Chinese working days (the engine calendar).
A street office inspects only the communities of its own street. The enterprise sees its
own findings and may respond (rectified) or appeal once; the housing center decides an
appeal: accepted → the finding is void and its deduction no longer counts, rejected → it
stands. Each finding and each decided appeal is a record in the enterprise's credit file.

Evaluation feed (`@feeder("inspections")`): one line per finding of the year that is not
void, item code "INSPECTION", points = −(points deducted), source "inspection", source_id
= the finding's id.
"""
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.engine.calendar import SHANGHAI, current_calendar, now
from app.engine.timers import working_days_deadline
from app.extensions import db
from app.i18n import in_default_language
from app.models import Community, CreditRecord, Inspection, InspectionFinding, InspectionPhoto
from app.permissions import reads_all, register_scope, scoped
from app.roles import DEPARTMENT_ROLES, role_name
from app.services import attachments, audit, records
from app.services.errors import Forbidden, NotFound, ValidationFailed
from app.services.evaluation_inputs import EvaluationInput, feeder
from app.services.notify import notify_enterprise

INSPECTOR_ROLES = (*DEPARTMENT_ROLES, "street_office")
ITEM_CODE = "INSPECTION"
CHECKLIST = ["环境卫生", "绿化养护", "公共设施设备", "电梯运行", "消防安全", "安全秩序", "二次供水", "停车管理",
             "服务公示", "档案管理"]
STATUSES = {"open": _l("待整改"), "rectified": _l("已整改"), "appealed": _l("申诉中"), "void": _l("申诉成立，扣分作废")}
OPEN_STATUSES = ("open", "appealed")
MAX_POINTS = Decimal("20.00")  # one finding deducts at most this many points
MAX_DAYS = 60
MAX_PHOTOS = 9
CREDIT_VALID_DAYS = 365


# ---------------------------------------------------------------- who sees what

@register_scope(Inspection)
def _inspection_scope(query, user):
    """Departments and supervisors all; a street office its street's; an enterprise its own."""
    if reads_all(user):
        return query
    if user.street_office_id:
        return query.where(Inspection.street_office_id == user.street_office_id)
    if user.enterprise_id:
        return query.where(Inspection.enterprise_id == user.enterprise_id)
    return query.where(db.false())


@register_scope(InspectionFinding)
def _finding_scope(query, user):
    if reads_all(user):
        return query
    if user.street_office_id:
        return query.where(InspectionFinding.inspection_id.in_(
            db.select(Inspection.id).where(Inspection.street_office_id == user.street_office_id)))
    if user.enterprise_id:
        return query.where(InspectionFinding.enterprise_id == user.enterprise_id)
    return query.where(db.false())


def get_inspection(user, inspection_id: int) -> Inspection:
    row = db.session.scalar(scoped(Inspection, user).where(Inspection.id == inspection_id))
    if row is None:
        raise NotFound(_("检查记录不存在。"))
    return row


def get_finding(user, finding_id: int) -> InspectionFinding:
    row = db.session.scalar(scoped(InspectionFinding, user).where(InspectionFinding.id == finding_id))
    if row is None:
        raise NotFound(_("问题记录不存在。"))
    return row


def department_of(user) -> str | None:
    """The role the user inspects for (the first inspector role they hold)."""
    return next((r for r in INSPECTOR_ROLES if user.has_role(r)), None)


def communities_for(user):
    """The communities the user may inspect: a street office its own street's, a department all."""
    query = db.select(Community).where(Community.enterprise_id.is_not(None)).order_by(Community.name)
    if not user.has_role(*DEPARTMENT_ROLES):
        query = query.where(Community.street_office_id == (user.street_office_id or -1))
    return db.session.scalars(query).all()


def is_overdue(finding: InspectionFinding, moment=None) -> bool:
    return finding.status in OPEN_STATUSES and finding.deadline < (moment or now())


# ---------------------------------------------------------------- recording

def _clean_findings(rows: list[dict]) -> tuple[list[dict], dict]:
    cleaned, errors = [], {}
    for i, row in enumerate(rows):
        description = (row.get("description") or "").strip()
        raw_points = str(row.get("points") if row.get("points") is not None else "").strip()
        if not description and raw_points in ("", "0", "0.00"):
            continue  # an empty row of the form
        prefix = f"findings-{i}-"
        if not description:
            errors[prefix + "description"] = _("请描述发现的问题。")
        try:
            points = Decimal(raw_points or "0").quantize(Decimal("0.01"))
        except InvalidOperation:
            errors[prefix + "points"] = _("扣分须为数字。")
            continue
        if points < 0 or points > MAX_POINTS:
            errors[prefix + "points"] = _("扣分须在 0 到 %(max)s 分之间。", max=MAX_POINTS)
        days = row.get("days")
        if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            errors[prefix + "days"] = _("整改期限须为 1 到 %(max)d 个工作日。", max=MAX_DAYS)
        item = (row.get("item") or "").strip()
        if item not in CHECKLIST:
            errors[prefix + "item"] = _("请选择检查项目。")
        cleaned.append({"item": item, "description": description[:2000], "points": points, "days": days})
    return cleaned, errors


def record(user, data: dict, photos=()) -> Inspection:
    """One inspection with its findings and photos, in one transaction; bad input changes nothing."""
    department = department_of(user)
    if department is None:
        raise Forbidden(_("您没有日常检查的权限。"))
    community = db.session.get(Community, data.get("community_id") or 0)
    if community is None or community.enterprise_id is None:
        raise ValidationFailed(_("请选择有物业企业服务的小区。"), {"community_id": _("请选择有物业企业服务的小区。")})
    if not user.has_role(*DEPARTMENT_ROLES) and community.street_office_id != user.street_office_id:
        message = _("该小区不在本街道辖区内，不能检查。")
        raise ValidationFailed(message, {"community_id": message})
    errors = {}
    items = [i for i in (data.get("items") or []) if i in CHECKLIST]
    if not items:
        errors["items"] = _("请至少勾选一个检查项目。")
    inspected_on = data.get("inspected_on") or now().astimezone(SHANGHAI).date()
    if not isinstance(inspected_on, date) or inspected_on > now().astimezone(SHANGHAI).date():
        errors["inspected_on"] = _("检查日期不能晚于今天。")
    findings, finding_errors = _clean_findings(data.get("findings") or [])
    errors.update(finding_errors)
    photos = [p for p in photos if p and getattr(p, "filename", "")]
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = _("最多上传 %(n)d 张照片。", n=MAX_PHOTOS)
    elif any(p.filename.lower().rsplit(".", 1)[-1] not in ("jpg", "jpeg", "png") for p in photos):
        errors["photos"] = _("照片只接受 JPG、PNG 文件。")
    if errors:
        raise ValidationFailed(_("检查记录有误，请按提示修改。"), errors)
    inspection = Inspection(community_id=community.id, enterprise_id=community.enterprise_id,
                            street_office_id=community.street_office_id, department=department,
                            inspector_id=user.id, inspected_on=inspected_on, items=items,
                            note=(data.get("note") or "").strip()[:4000])
    db.session.add(inspection)
    db.session.flush()
    try:
        for photo in photos:
            row = attachments.store(photo, field="photos", user=user)  # checks the bytes are an image
            db.session.add(InspectionPhoto(inspection_id=inspection.id, attachment_id=row.id))
    except ValidationFailed:
        db.session.rollback()
        raise
    moment = now()
    for f in findings:
        finding = InspectionFinding(inspection_id=inspection.id, enterprise_id=community.enterprise_id,
                                    community_id=community.id, item=f["item"], description=f["description"],
                                    points=f["points"], status="open",
                                    deadline=working_days_deadline(f["days"], moment, current_calendar()))
        with in_default_language():  # the credit file is the record: in Chinese, whoever inspected
            finding.credit_record_id = records.credit(
                community.enterprise_id, "inspection",
                _("日常检查发现问题：%(community)s · %(item)s", community=community.name, item=f["item"]),
                detail=f["description"], points=-f["points"], source=role_name(department),
                valid_until=_valid_until(), actor=user).id
        db.session.add(finding)
    if findings:
        notify_enterprise(community.enterprise_id, "inspection",
                          _l("日常检查发现 %(n)d 个问题：%(community)s", n=len(findings), community=community.name),
                          _l("请在整改期限内整改并回复，或在系统中申诉。"))
    audit.record("inspection.record", inspection, after={"community_id": community.id, "items": items,
                                                         "findings": len(findings)}, actor=user)
    db.session.commit()
    return inspection


def _valid_until() -> date:
    return now().astimezone(SHANGHAI).date() + timedelta(days=CREDIT_VALID_DAYS)


# ---------------------------------------------------------------- the enterprise answers

def _own_finding(user, finding_id: int) -> InspectionFinding:
    finding = get_finding(user, finding_id)
    if finding.enterprise_id != user.enterprise_id:
        raise Forbidden(_("只有被检查的物业企业可以回复或申诉。"))
    return finding


def respond(user, finding_id: int, text: str) -> InspectionFinding:
    """The enterprise reports the rectification (整改情况)."""
    finding = _own_finding(user, finding_id)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("请填写整改情况。"), {"response": _("请填写整改情况。")})
    if finding.status != "open":
        raise ValidationFailed(_("该问题当前不能回复整改。"), {"response": _("该问题当前不能回复整改。")})
    before = {"status": finding.status}
    finding.response, finding.responded_at, finding.status = text[:4000], now(), "rectified"
    audit.record("inspection.respond", finding, before=before, after={"status": "rectified"}, actor=user)
    db.session.commit()
    return finding


def appeal(user, finding_id: int, reason: str) -> InspectionFinding:
    """The enterprise appeals a finding once; the housing center decides."""
    finding = _own_finding(user, finding_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写申诉理由。"), {"reason": _("请填写申诉理由。")})
    if finding.appealed_at is not None or finding.status == "void":
        raise ValidationFailed(_("每个问题只能申诉一次。"), {"reason": _("每个问题只能申诉一次。")})
    before = {"status": finding.status}
    finding.appeal_reason, finding.appealed_at, finding.status = reason[:4000], now(), "appealed"
    audit.record("inspection.appeal", finding, before=before, after={"status": "appealed"}, actor=user)
    db.session.commit()
    return finding


def decide_appeal(user, finding_id: int, accepted: bool, note: str) -> InspectionFinding:
    """The housing center decides: accepted → the deduction is void (a good record in the
    credit file); rejected → the finding stands as it was before the appeal."""
    if not user.has_role("housing_center"):
        raise Forbidden(_("申诉由住保中心决定。"))
    finding = get_finding(user, finding_id)
    if finding.status != "appealed":
        raise ValidationFailed(_("该问题没有待决定的申诉。"), {"accepted": _("该问题没有待决定的申诉。")})
    note = (note or "").strip()
    if not accepted and not note:
        raise ValidationFailed(_("驳回申诉须说明理由。"), {"note": _("驳回申诉须说明理由。")})
    finding.appeal_decision = "accepted" if accepted else "rejected"
    finding.decision_note, finding.decided_by_id, finding.decided_at = note[:4000], user.id, now()
    finding.status = "void" if accepted else ("rectified" if finding.responded_at else "open")
    community = finding.community.name
    if accepted and finding.credit_record_id:  # the bad record stays visible but no longer counts
        record = db.session.get(CreditRecord, finding.credit_record_id)
        record.valid_until = now().astimezone(SHANGHAI).date() - timedelta(days=1)
    with in_default_language():  # the credit file is the record: in Chinese, whoever decided
        if accepted:
            records.credit(finding.enterprise_id, "inspection",
                           _("申诉成立，日常检查扣分作废：%(community)s · %(item)s", community=community, item=finding.item),
                           positive=True, detail=note, source=role_name("housing_center"), actor=user)
        else:
            records.credit(finding.enterprise_id, "inspection",
                           _("申诉被驳回：%(community)s · %(item)s", community=community, item=finding.item),
                           detail=note, source=role_name("housing_center"), valid_until=_valid_until(), actor=user)
    notify_enterprise(finding.enterprise_id, "inspection",
                      _l("申诉成立，扣分作废：%(item)s", item=finding.item) if accepted
                      else _l("申诉被驳回：%(item)s", item=finding.item), note)
    audit.record("inspection.appeal_decided", finding, before={"status": "appealed"},
                 after={"status": finding.status, "decision": finding.appeal_decision}, actor=user)
    db.session.commit()
    return finding


# ---------------------------------------------------------------- lists and figures

def findings_for(user, *, status: str | None = None, overdue: bool = False):
    query = scoped(InspectionFinding, user).order_by(InspectionFinding.deadline)
    if status == "open" or overdue:
        query = query.where(InspectionFinding.status.in_(OPEN_STATUSES))
    elif status:
        query = query.where(InspectionFinding.status == status)
    if overdue:
        query = query.where(InspectionFinding.deadline < now())
    return db.session.scalars(query).all()


def open_counts(user) -> dict:
    """Open findings and how many of them are overdue (for the dashboards)."""
    rows = findings_for(user, status="open")
    moment = now()
    return {"open": len(rows), "overdue": sum(1 for f in rows if f.deadline < moment), "rows": rows[:10]}


@feeder("inspections")
def evaluation_lines(enterprise_id: int, community_id: int, year: int) -> list[EvaluationInput]:
    """Every non-void finding of the year (by inspection date) deducts its points."""
    rows = db.session.execute(
        db.select(InspectionFinding, Inspection.inspected_on).join(Inspection)
        .where(InspectionFinding.enterprise_id == enterprise_id, InspectionFinding.community_id == community_id,
               InspectionFinding.status != "void",
               Inspection.inspected_on >= date(year, 1, 1), Inspection.inspected_on <= date(year, 12, 31))
        .order_by(Inspection.inspected_on, InspectionFinding.id)).all()
    return [EvaluationInput(item_code=ITEM_CODE, points=-Decimal(f.points), source="inspection", source_id=f.id,
                            title=f"{day.isoformat()} {role_name(f.inspection.department)}：{f.item} — {f.description[:60]}")
            for f, day in rows if f.points]


def seed_demo(community) -> None:
    """Demo data: a fire-brigade inspection of the demo enterprise's first community with two
    findings (once; `flask demo seed` may run again)."""
    from app.models import User
    inspector = db.session.scalar(db.select(User).where(User.username == "firebrigade"))
    if inspector is None or db.session.scalar(db.select(Inspection.id).limit(1)):
        return
    record(inspector, {"community_id": community.id, "items": ["消防安全", "公共设施设备", "环境卫生"],
                       "note": "例行消防安全检查",
                       "findings": [{"item": "消防安全", "description": "3 栋消防通道堆放杂物", "points": "2.00", "days": 5},
                                    {"item": "公共设施设备", "description": "地下车库应急照明损坏 2 处",
                                     "points": "1.00", "days": 10}]})
