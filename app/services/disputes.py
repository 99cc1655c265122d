"""Disputes and 12345 hotline work orders (policy 五(二)): intake, matching to a community,
the dispute_mediation case (triage, dispatch, rectification or mediation, return visit,
hotline reply), mediation sessions, the agreement PDF, the credit file, statistics. Its
times (opened, closed, replied) are on the engine clock, like its deadlines.

A work order's number is unique: a repeated delivery is merged into the first (counted,
never a second case). A complaint is matched to a community (and so to its enterprise and
street office) by its address; one that cannot be matched goes to the housing center's
triage task.
"""
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.engine import runtime
from app.engine.calendar import current_calendar, now
from app.engine.registry import assigner, operator
from app.extensions import db
from app.models import Community, Dispute, HotlineReply, MediationSession, ProcessInstance, StreetMediator, User
from app.permissions import reads_all, register_scope
from app.services import audit, documents, records
from app.services.cases import summary
from app.services.errors import Forbidden, NotFound, ValidationFailed
from app.services.long_jobs import runner
from app.services.tabular import read_table
from app.validators import mask_phone

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROCESS = "dispute_mediation"

SOURCES = {"hotline": _l("12345 热线"), "street_office": _l("街道办事处受理"), "housing_center": _l("住保中心受理")}
CATEGORIES = ["物业服务质量", "物业收费", "公共设施维修", "环境卫生", "安全秩序", "停车管理", "装修管理", "其他"]
STATUSES = {"triage": _l("待研判"), "dispatched": _l("待分办"), "rectification": _l("企业整改中"),
            "mediation": _l("调解中"), "return_visit": _l("待回访"), "closed": _l("已办结"),
            "not_property": _l("非物业纠纷")}
OUTCOMES = {"rectified": _l("企业整改解决"), "agreement": _l("达成调解协议"), "referred": _l("调解不成，引导诉讼等途径"),
            "not_property": _l("非物业服务纠纷，转有关部门")}
REFERRALS = {"shared_court": _l("共享法庭"), "litigation": _l("向人民法院起诉"), "arbitration": _l("申请仲裁"),
             "other": _l("其他法律途径")}

# A verified complaint is a bad record in the enterprise's credit file for one year, and
# deducts in the annual evaluation what the scoring standard's complaint item says
# (B3: "核实投诉每件扣 1 分"; the feeder is evaluation_inputs.complaint_lines).
COMPLAINT_POINTS = Decimal("-1.00")
COMPLAINT_VALID_DAYS = 365
MAX_CONTENT = 4000


def local_date(value: datetime) -> date:
    return value.astimezone(SHANGHAI).date()


# ---------------------------------------------------------------- who sees what

def mediator_streets(user) -> list[int]:
    return list(db.session.scalars(db.select(StreetMediator.street_office_id).where(StreetMediator.user_id == user.id)))


@register_scope(Dispute)
def _dispute_scope(query, user):
    """Supervisors and departments all; a street office its own; an enterprise its own;
    a mediator the cases of the streets whose committee they sit on."""
    if reads_all(user):
        return query
    clauses = []
    if user.street_office_id:
        clauses.append(Dispute.street_office_id == user.street_office_id)
    if user.enterprise_id:
        clauses.append(Dispute.enterprise_id == user.enterprise_id)
    if user.has_role("mediator"):
        clauses.append(Dispute.street_office_id.in_(mediator_streets(user)) | (Dispute.mediator_id == user.id))
    return query.where(db.or_(*clauses) if clauses else db.false())


def visible(user, query=None):
    from app.permissions import scoped
    return scoped(Dispute, user, query)


def get_for(user, dispute_id: int) -> Dispute:
    dispute = db.session.scalar(visible(user).where(Dispute.id == dispute_id))
    if dispute is None:
        raise NotFound(_("纠纷案件不存在。"))
    return dispute


def for_instance(instance_id: int) -> Dispute | None:
    return db.session.scalar(db.select(Dispute).where(Dispute.instance_id == instance_id))


def register_mediator(user_id: int, street_office_id: int, actor=None) -> StreetMediator:
    """Put a mediator on a street's mediation committee (one street per mediator)."""
    user = db.session.get(User, user_id)
    if user is None or not user.has_role("mediator"):
        raise ValidationFailed(_("该用户不是调解员。"), {"user_id": _("该用户不是调解员。")})
    row = db.session.get(StreetMediator, user_id) or StreetMediator(user_id=user_id)
    row.street_office_id = street_office_id
    db.session.add(row)
    audit.record("dispute.mediator_registered", target_type="User", target_id=user_id,
                 after={"street_office_id": street_office_id}, actor=actor)
    db.session.commit()
    return row


def mediators_of(street_office_id: int | None) -> list[User]:
    if not street_office_id:
        return []
    return list(db.session.scalars(db.select(User).join(StreetMediator, StreetMediator.user_id == User.id)
                                   .where(StreetMediator.street_office_id == street_office_id, User.active.is_(True))
                                   .order_by(User.display_name, User.username)))


@assigner("disputes.street_head", "街道办事处负责人")
def street_head(instance: ProcessInstance) -> int | None:
    """First-level escalation goes to the head of the case's street office (registered at
    /takeovers/heads), not to all its staff; with no head registered, the street office's lane."""
    from app.services.takeover import head_of
    head = head_of(instance.street_office_id)
    return head.id if head else None


def ensure_case_mediator(user, dispute: Dispute) -> None:
    """Only the mediator assigned to the case, who sits on its street's committee, acts on it."""
    if dispute.mediator_id != user.id or dispute.street_office_id not in mediator_streets(user):
        raise Forbidden(_("您不是本案的调解员，不能办理其他街道或他人的调解案件。"))


# ---------------------------------------------------------------- matching

def match_community(address: str) -> Community | None:
    """The community the address names: the longest community name (or registered address)
    found in it; None when nothing or more than one equally good community matches."""
    address = (address or "").replace(" ", "")
    if not address:
        return None
    best, best_len = [], 0
    for community in db.session.scalars(db.select(Community)):
        keys = [k.replace(" ", "") for k in (community.address, community.name) if k and len(k) >= 2]
        hit = max((len(k) for k in keys if k in address), default=0)
        if hit > best_len:
            best, best_len = [community], hit
        elif hit and hit == best_len:
            best.append(community)
    return best[0] if len(best) == 1 else None


# ---------------------------------------------------------------- intake

def _parse_time(value, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        when = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(_("时间格式不正确。"), {field: _("须为 ISO-8601 时间，如 2026-05-01T09:30:00+08:00。")})
    return when if when.tzinfo else when.replace(tzinfo=SHANGHAI)


def _clean(data: dict) -> dict:
    content = (data.get("content") or "").strip()
    errors = {}
    if not content:
        errors["content"] = _("请填写投诉内容。")
    elif len(content) > MAX_CONTENT:
        errors["content"] = _("投诉内容不能超过 %(n)d 字。", n=MAX_CONTENT)
    if errors:
        raise ValidationFailed(_("工单内容有误。"), errors)
    phone = (data.get("caller_phone") or "").strip()
    return {"content": content, "caller_name": (data.get("caller_name") or "").strip()[:100],
            "caller_phone": (phone if "*" in phone else mask_phone(phone))[:32],  # never keep a full number
            "address": (data.get("address") or "").strip()[:300],
            "category": (data.get("category") or "").strip()[:60] or "其他"}


def receive_work_order(body: dict) -> tuple[Dispute, bool]:
    """A 12345 work order from the hotline platform: (dispute, created). The same number
    again is merged into the first one; nothing is doubled. The caller's transaction
    (with the request's nonce) commits here."""
    number = str(body.get("work_order_no") or "").strip()
    if not number:
        raise ValidationFailed(_("工单内容有误。"), {"work_order_no": _("缺少工单编号。")})
    fields = _clean(body)
    received_at = _parse_time(body.get("received_at"), "received_at") or now()
    deadline = _parse_time(body.get("deadline"), "deadline")
    existing = db.session.scalar(db.select(Dispute).where(Dispute.work_order_no == number))
    if existing is None:
        dispute = Dispute(source="hotline", work_order_no=number[:64], received_at=received_at,
                          hotline_deadline=deadline, created_at=now(), **fields)
        try:
            with db.session.begin_nested():
                db.session.add(dispute)
        except IntegrityError:  # the same work order arriving twice at once: merge into the winner
            existing = db.session.scalar(db.select(Dispute).where(Dispute.work_order_no == number))
        else:
            _open_case(dispute, None)
            return dispute, True
    existing.duplicates += 1
    audit.record("dispute.work_order_merged", existing, after={"work_order_no": number,
                                                               "duplicates": existing.duplicates})
    db.session.commit()
    return existing, False


WORK_ORDER_COLUMNS = {"工单编号": "work_order_no", "受理时间": "received_at", "来电人": "caller_name",
                      "来电号码": "caller_phone", "地址": "address", "类别": "category", "诉求内容": "content",
                      "办结时限": "deadline"}


def _checked_rows(filename: str, content: bytes) -> list[dict]:
    """Every row of the file, or ValidationFailed naming each bad row (nothing imported)."""
    rows = read_table(filename, content, WORK_ORDER_COLUMNS, ("工单编号", "诉求内容"))
    problems = []
    for number, row in enumerate(rows, start=2):
        if not row.get("work_order_no"):
            problems.append(_("第 %(n)d 行：缺少工单编号。", n=number))
        if not row.get("content"):
            problems.append(_("第 %(n)d 行：缺少诉求内容。", n=number))
        elif len(row["content"]) > MAX_CONTENT:
            problems.append(_("第 %(n)d 行：诉求内容超过 %(max)d 字。", n=number, max=MAX_CONTENT))
        for field in ("received_at", "deadline"):
            try:
                _parse_time(row.get(field), field)
            except ValidationFailed:
                problems.append(_("第 %(n)d 行：时间“%(v)s”格式不正确。", n=number, v=row[field]))
    if problems:
        shown = problems[:50] + ([_("……另有 %(n)d 处错误", n=len(problems) - 50)] if len(problems) > 50 else [])
        raise ValidationFailed(_("工单文件有误，未导入任何工单。"), {"file": "\n".join(shown)})
    return rows


def import_work_orders(filename: str, content: bytes, step=None) -> dict:
    """Work orders exported by a hotline platform that cannot call our API (CSV or Excel).
    Every row is checked first and any bad row refuses the whole file; then each row is
    received like a pushed work order (a case each, committed one by one), so a number seen
    before is merged, never doubled, and a run stopped half-way can simply be run again."""
    rows = _checked_rows(filename, content)
    counts = Counter()
    for done, row in enumerate(rows, start=1):
        counts[receive_work_order(row)[1]] += 1
        if step and done % 20 == 0:
            step(5 + 95 * done // len(rows), _("已受理 %(done)d / %(total)d 件", done=done, total=len(rows)))
    return {"created": counts[True], "merged": counts[False]}


def start_import(user, filename: str, content: bytes, back: str = ""):
    """Keep the upload and import it as a long job with a progress bar: every work order
    starts a case, so a platform's monthly export takes a while. Returns the LongJob."""
    from app.services import attachments, long_jobs
    if not user.has_role("street_office", "housing_center", "admin"):
        raise Forbidden(_("只有街道办事处和住保中心可以导入工单。"))
    if not content:
        raise ValidationFailed(_("文件是空的。"), {"file": _("文件是空的。")})
    upload = attachments.store_upload(filename, content, field="work_orders", user=user)
    return long_jobs.start("work_order_import", _("导入 12345 工单（%(name)s）", name=filename), user,
                           attachment_id=upload.id, back=back)


@runner("work_order_import")
def _import_job(job, step):
    from app.models import Attachment
    from app.services import attachments
    upload = db.session.get(Attachment, job.params["attachment_id"])
    with open(attachments.path_of(upload), "rb") as source:
        content = source.read()
    step(2, _("检查工单"))
    result = import_work_orders(upload.filename, content, step)
    job.message = _("已导入 %(created)d 件新工单，合并重复工单 %(merged)d 件。", **result)
    return None


def create_complaint(user, data: dict) -> Dispute:
    """A complaint received in person or by phone at a street office or the housing center."""
    fields = _clean(data)
    if user.has_role("street_office") and user.street_office_id:
        source = "street_office"
    elif user.has_role("housing_center", "admin"):
        source = "housing_center"
    else:
        raise Forbidden(_("只有街道办事处和住保中心可以登记投诉。"))
    dispute = Dispute(source=source, received_at=now(), created_at=now(), urgent=bool(data.get("urgent")),
                      created_by_id=user.id, **fields)
    community_id = data.get("community_id")
    if community_id:
        community = db.session.get(Community, int(community_id))
        if community is None or (source == "street_office" and community.street_office_id != user.street_office_id):
            raise ValidationFailed(_("投诉信息有误。"), {"community_id": _("请选择本街道的小区。")})
        dispute.community_id = community.id
    db.session.add(dispute)
    _open_case(dispute, user)
    return dispute


def _title(dispute: Dispute) -> str:
    where = dispute.community.name if dispute.community else (dispute.address or str(_("地址待核实")))
    prefix = f"12345 工单 {dispute.work_order_no}" if dispute.work_order_no else str(SOURCES[dispute.source])
    return f"{prefix} · {where} · {dispute.category}"


def _orgs(dispute: Dispute) -> dict:
    return {"community_id": dispute.community_id, "enterprise_id": dispute.enterprise_id,
            "street_office_id": dispute.street_office_id}


def _apply_community(dispute: Dispute, community: Community | None) -> None:
    dispute.community = community
    dispute.community_id = community.id if community else None
    dispute.enterprise_id = community.enterprise_id if community else None
    dispute.street_office_id = community.street_office_id if community else None


def hotline_warning_at(deadline: datetime | None) -> datetime | None:
    """When an unanswered work order escalates: one working day before the hotline's
    deadline, at the same time of day, so the center can act before it is missed."""
    if deadline is None:
        return None
    local = deadline.astimezone(SHANGHAI)
    day = local.date() - timedelta(days=1)
    calendar = current_calendar()
    while not calendar.is_workday(day):
        day -= timedelta(days=1)
    return datetime.combine(day, local.timetz())


def _open_case(dispute: Dispute, actor) -> None:
    """Match the address, then start the case in the same transaction as the intake."""
    community = db.session.get(Community, dispute.community_id) if dispute.community_id else \
        match_community(dispute.address)
    _apply_community(dispute, community)
    dispute.status = "dispatched" if community else "triage"
    db.session.flush()
    warn_at = hotline_warning_at(dispute.hotline_deadline) if dispute.source == "hotline" else None
    audit.record("dispute.received", dispute, after={"source": dispute.source, "work_order_no": dispute.work_order_no,
                                                     "community_id": dispute.community_id}, actor=actor)
    instance = runtime.start(PROCESS, business_key=f"dispute-{dispute.id}", title=_title(dispute),
                             data={"dispute_id": dispute.id, "matched": community is not None,
                                   "source": dispute.source, "rectify_days": 5,
                                   "hotline_warn_at": warn_at.isoformat() if warn_at else ""},
                             actor=actor, subject=dispute, orgs=_orgs(dispute))
    dispute.instance_id = instance.id
    db.session.commit()


# ---------------------------------------------------------------- sessions

def add_session(user, dispute_id: int, data: dict) -> MediationSession:
    dispute = get_for(user, dispute_id)
    ensure_case_mediator(user, dispute)
    if dispute.status != "mediation":
        raise ValidationFailed(_("本案不在调解阶段，不能记录调解会。"), {"held_on": _("本案不在调解阶段。")})
    held_on = data.get("held_on")
    errors = {}
    if not isinstance(held_on, date):
        errors["held_on"] = _("请填写调解日期。")
    elif held_on < local_date(dispute.created_at):
        errors["held_on"] = _("调解日期不能早于立案日期（%(d)s）。", d=local_date(dispute.created_at).isoformat())
    for name, label in (("place", _("请填写调解地点。")), ("parties", _("请填写参加人员。"))):
        if not (data.get(name) or "").strip():
            errors[name] = label
    if errors:
        raise ValidationFailed(_("调解记录填写有误。"), errors)
    session = MediationSession(dispute_id=dispute.id, held_on=held_on, place=data["place"].strip()[:200],
                               parties=data["parties"].strip()[:500], record=(data.get("record") or "").strip(),
                               mediator_id=user.id)
    db.session.add(session)
    db.session.flush()
    audit.record("dispute.session", session, after={"dispute_id": dispute.id, "held_on": held_on}, actor=user)
    db.session.commit()
    return session


# ---------------------------------------------------------------- operators (dispute_mediation.bpmn)

def _dispute(dispute_id) -> Dispute:
    dispute = db.session.get(Dispute, int(dispute_id))
    if dispute is None:
        raise NotFound(_("纠纷案件不存在。"))
    return dispute


@operator("disputes.triage", "记录研判结论（是否物业纠纷、所属小区）",
          params={"dispute_id": "纠纷编号", "is_property": "是否物业纠纷", "community_id": "小区", "urgent": "紧急",
                  "note": "研判意见"})
def triage(ctx, dispute_id: int, is_property: str, community_id: int = 0, urgent: bool = False,
           note: str = "") -> dict:
    """The case now belongs to the chosen community's street office and enterprise."""
    dispute = _dispute(dispute_id)
    dispute.urgent = bool(urgent)
    if is_property != "yes":
        dispute.status, dispute.outcome, dispute.outcome_note = "not_property", "not_property", note or ""
        dispute.closed_at = now()
        audit.record("dispute.triage", dispute, after={"property": False, "note": note})
        return {"property": False}
    _apply_community(dispute, db.session.get(Community, int(community_id)))
    dispute.status = "dispatched"
    instance = db.session.get(ProcessInstance, ctx.instance_id)
    instance.community_id, instance.enterprise_id = dispute.community_id, dispute.enterprise_id
    instance.street_office_id = dispute.street_office_id
    instance.title = _title(dispute)
    audit.record("dispute.triage", dispute, after={"property": True, "community_id": dispute.community_id,
                                                   "urgent": dispute.urgent})
    return {"property": True}


@operator("disputes.dispatch", "记录分办（企业整改或调解）",
          params={"dispute_id": "纠纷编号", "handling": "处理方式", "mediator_id": "调解员", "urgent": "紧急"})
def dispatch(ctx, dispute_id: int, handling: str, mediator_id: int = 0, urgent: bool = False) -> dict:
    dispute = _dispute(dispute_id)
    dispute.urgent = dispute.urgent or bool(urgent)
    if handling == "mediate":
        dispute.status, dispute.mediator_id = "mediation", int(mediator_id)
    else:
        dispute.status = "rectification"
    audit.record("dispute.dispatch", dispute, after={"handling": handling, "mediator_id": dispute.mediator_id})
    return {"handling": handling}


@operator("disputes.rectified", "记录企业整改结果", params={"dispute_id": "纠纷编号", "measures": "整改措施"})
def rectified(ctx, dispute_id: int, measures: str) -> dict:
    dispute = _dispute(dispute_id)
    dispute.status, dispute.outcome, dispute.outcome_note = "return_visit", "rectified", measures or ""
    audit.record("dispute.rectified", dispute, after={"measures": measures})
    return {"outcome": "rectified"}


@operator("disputes.mediated", "记录调解结果（协议书或引导诉讼）",
          params={"dispute_id": "纠纷编号", "outcome": "调解结果", "terms": "协议内容", "performance": "履行方式与期限",
                  "failure_reason": "调解不成原因", "referral": "引导途径"})
def mediated(ctx, dispute_id: int, outcome: str, terms: str = "", performance: str = "", failure_reason: str = "",
             referral: str = "") -> dict:
    """An agreement is drawn up as a PDF with the parties' terms; a failure is recorded and
    the parties are referred to the shared court or other legal channels."""
    dispute = _dispute(dispute_id)
    dispute.status = "return_visit"
    if outcome == "agreement":
        dispute.outcome, dispute.agreement_terms = "agreement", terms
        dispute.outcome_note = performance or ""
        row = documents.generate("documents/mediation_agreement.html", f"人民调解协议书（{_title(dispute)}）",
                                 kind="mediation_agreement", instance_id=ctx.instance_id, dispute=dispute,
                                 terms=terms, performance=performance, sessions=list(dispute.sessions),
                                 sources=SOURCES)
        dispute.agreement_attachment_id = row.id
    else:
        dispute.outcome, dispute.referral_channel, dispute.outcome_note = "referred", referral, failure_reason or ""
    audit.record("dispute.mediated", dispute, after={"outcome": dispute.outcome, "referral": dispute.referral_channel})
    return {"outcome": dispute.outcome}


@operator("disputes.close", "办结：回访满意度、诚信档案",
          params={"dispute_id": "纠纷编号", "satisfaction": "满意度", "verified": "投诉属实", "visit_note": "回访记录"})
def close(ctx, dispute_id: int, satisfaction: int, verified: bool = False, visit_note: str = "") -> dict:
    """A verified complaint is a bad record in the enterprise's credit file (it feeds the
    annual evaluation); a case is never closed without an outcome."""
    dispute = _dispute(dispute_id)
    if not dispute.outcome:
        raise ValidationFailed(_("案件没有处理结果，不能办结。"))
    dispute.satisfaction, dispute.verified = int(satisfaction), bool(verified)
    dispute.status, dispute.closed_at = "closed", now()
    if dispute.verified and dispute.enterprise_id:
        records.credit(dispute.enterprise_id, "complaint", f"核实投诉：{dispute.category}（{_title(dispute)}）",
                       detail=f"{dispute.content}\n{OUTCOMES[dispute.outcome]}：{dispute.outcome_note}",
                       points=COMPLAINT_POINTS, source="纠纷调解", instance_id=ctx.instance_id,
                       valid_until=local_date(now()) + timedelta(days=COMPLAINT_VALID_DAYS))
    audit.record("dispute.closed", dispute, after={"outcome": dispute.outcome, "satisfaction": dispute.satisfaction,
                                                   "verified": dispute.verified, "note": visit_note})
    return {"closed": True}


def reply_text(dispute: Dispute) -> str:
    text = f"{OUTCOMES[dispute.outcome]}。"
    if dispute.outcome_note:
        text += f"{dispute.outcome_note}。"
    if dispute.outcome == "referred" and dispute.referral_channel:
        text += f"已告知当事人可通过{REFERRALS[dispute.referral_channel]}解决。"
    if dispute.satisfaction:
        text += f"回访满意度 {dispute.satisfaction}/5。"
    return text


@operator("disputes.reply_hotline", "答复 12345 热线", params={"dispute_id": "纠纷编号"}, external=True, max_attempts=5)
def reply_hotline(ctx, dispute_id: int) -> dict:
    """Send the reply record through the hotline's signed callback; the platform keys it by
    work-order number, so a retry never answers twice."""
    from app.integrations.hotline import client_from_config
    dispute = _dispute(dispute_id)
    reply = db.session.scalar(db.select(HotlineReply).where(HotlineReply.dispute_id == dispute.id))
    if reply is None:
        reply = HotlineReply(dispute_id=dispute.id, work_order_no=dispute.work_order_no, content=reply_text(dispute))
        db.session.add(reply)
        db.session.commit()
    if reply.status == "sent":
        return {"receipt": reply.receipt, "on_time": reply.on_time}
    result = client_from_config(current_app.config).reply(reply.work_order_no, {
        "content": reply.content, "outcome": dispute.outcome, "satisfaction": dispute.satisfaction,
        "handled_by": dispute.street_office.name if dispute.street_office else "吉首市住房保障服务中心"})
    reply.status, reply.receipt, reply.sent_at = "sent", result.get("receipt"), now()  # the SLA timer's clock
    reply.on_time = dispute.hotline_deadline is None or reply.sent_at <= dispute.hotline_deadline
    audit.record("dispute.hotline_reply", reply, after={"receipt": reply.receipt, "on_time": reply.on_time})
    db.session.commit()
    return {"receipt": reply.receipt, "on_time": reply.on_time}


# ---------------------------------------------------------------- statistics

def statistics(user) -> dict:
    """Counts by category, community, enterprise and month; time to resolve; satisfaction;
    the share of 12345 replies sent by the hotline's deadline."""
    rows = db.session.scalars(visible(user)).all()
    replies = db.session.scalars(db.select(HotlineReply.on_time).where(
        HotlineReply.status == "sent", HotlineReply.dispute_id.in_(visible(user).with_only_columns(Dispute.id)))).all()
    by_category, by_community, by_enterprise, by_month, by_outcome = Counter(), Counter(), Counter(), Counter(), Counter()
    days, scores = [], []
    for d in rows:
        by_category[d.category] += 1
        by_community[d.community.name if d.community else str(_("未匹配"))] += 1
        if d.enterprise:
            by_enterprise[d.enterprise.name] += 1
        by_month[local_date(d.received_at).strftime("%Y-%m")] += 1
        if d.outcome:
            by_outcome[str(OUTCOMES[d.outcome])] += 1
        if d.closed_at:
            days.append((d.closed_at - d.created_at).total_seconds() / 86400)
        if d.satisfaction:
            scores.append(d.satisfaction)
    return {
        "total": len(rows), "open": sum(1 for d in rows if d.status not in ("closed", "not_property")),
        "by_category": by_category.most_common(), "by_community": by_community.most_common(20),
        "by_enterprise": by_enterprise.most_common(20), "by_month": sorted(by_month.items()),
        "by_outcome": by_outcome.most_common(),
        "avg_days": round(sum(days) / len(days), 1) if days else None,
        "avg_satisfaction": round(sum(scores) / len(scores), 2) if scores else None,
        "satisfied_rate": round(100 * sum(1 for s in scores if s >= 4) / len(scores)) if scores else None,
        "on_time_rate": round(100 * sum(1 for t in replies if t) / len(replies)) if replies else None,
    }


def caseload(user) -> dict[str, list[Dispute]]:
    """A mediator's own cases (open first), or a street office's / supervisor's by status."""
    query = visible(user).order_by(Dispute.urgent.desc(), Dispute.created_at.desc())
    if user.has_role("mediator") and not reads_all(user):
        query = query.where(Dispute.mediator_id == user.id)
    grouped = defaultdict(list)
    for d in db.session.scalars(query.limit(500)):
        grouped["open" if d.status not in ("closed", "not_property") else "closed"].append(d)
    return grouped


@summary("Dispute")
def _summary(subject_id):
    d = db.session.get(Dispute, subject_id)
    if d is None:
        return []
    return [(_("来源"), str(SOURCES.get(d.source, d.source)) + (f" {d.work_order_no}" if d.work_order_no else "")),
            (_("小区"), d.community.name if d.community else _("未匹配")),
            (_("物业企业"), d.enterprise.name if d.enterprise else "—"), (_("类别"), d.category),
            (_("状态"), str(STATUSES.get(d.status, d.status))), (_("投诉内容"), d.content)]
