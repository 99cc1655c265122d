"""The annual evaluation (policy 三(三), 三(四), 五(三)): opened by the housing center in October
for a year, one annual_evaluation case per enterprise–community pair. Each department
scores its items in parallel; the total is computed with a breakdown in which every point
is traced to an item's scoring task, a feeder line (daily inspections, satisfaction) or an
accepted objection; stars and grade come from the DMN tables; the result is disclosed for
7 working days, objections are handled, and then it is final: credit file and the year-end
settlement of the enterprise's supervised accounts with the final score."""
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import jobs
from app.engine import decisions, runtime
from app.engine.calendar import current_calendar, now
from app.engine.registry import message, operator
from app.engine.timers import working_days_deadline
from app.extensions import db
from app.models import (Community, EscrowAccount, Evaluation, EvaluationObjection, EvaluationScore, HumanTask,
                        ProcessInstance)
from app.models.base import utcnow
from app.permissions import reads_all, register_scope
from app.roles import role_name
from app.services import audit, evaluation_inputs, long_jobs, records, scoring
from app.services.long_jobs import runner
from app.services.cases import summary
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.validators import mask_phone

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROCESS = "annual_evaluation"
RATING = "evaluation_rating"
DISCLOSURE_DAYS = 7
MESSAGE = "evaluation_objection"
CENT = Decimal("0.01")
STATUSES = {"scoring": _l("部门评分中"), "disclosure": _l("公示中"), "final": _l("已生效")}
MAX_OBJECTION = 2000

message(MESSAGE, "考评异议（公示期内）")


def _d(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


# ---------------------------------------------------------------- who sees what

@register_scope(Evaluation)
def _scope(query, user):
    """Supervisors and departments all; an enterprise its own; a street office its streets'."""
    if reads_all(user):
        return query
    clauses = []
    if user.enterprise_id:
        clauses.append(Evaluation.enterprise_id == user.enterprise_id)
    if user.street_office_id:
        clauses.append(Evaluation.community_id.in_(db.select(Community.id).where(
            Community.street_office_id == user.street_office_id)))
    return query.where(db.or_(*clauses) if clauses else db.false())


def get_for(user, evaluation_id: int) -> Evaluation:
    from app.permissions import scoped
    ev = db.session.scalar(scoped(Evaluation, user).where(Evaluation.id == evaluation_id))
    if ev is None:
        raise NotFound(_("考评不存在。"))
    return ev


def listing(user, year: int):
    """The year's evaluations the user may see, best first (a query: the page shows a page of it)."""
    from app.permissions import scoped
    return scoped(Evaluation, user).where(Evaluation.year == year).order_by(Evaluation.total.desc().nulls_last(),
                                                                            Evaluation.id)


def for_instance(instance_id: int) -> Evaluation | None:
    return db.session.scalar(db.select(Evaluation).where(Evaluation.instance_id == instance_id))


def _evaluation(evaluation_id) -> Evaluation:
    ev = db.session.get(Evaluation, int(evaluation_id))
    if ev is None:
        raise NotFound(_("考评不存在。"))
    return ev


# ---------------------------------------------------------------- opening a year

def open_year(user, year: int, scoring_due: date | None):
    """Check the year and lock its scoring standard at once (a refusal comes back at the
    field), then start the cases as a long job with a progress bar: a city has hundreds of
    communities, a province hundreds of thousands. Returns the LongJob."""
    if not user.has_role("housing_center", "admin"):
        raise Forbidden(_("只有住保中心可以开启年度考评。"))
    standard = scoring.for_year(year)
    if standard is None or not standard.items:
        raise ValidationFailed(_("%(year)d 年度没有评分标准。", year=year), {"year": _("请先制定该年度的评分标准。")})
    scoring.check_complete(standard)
    today = now().astimezone(SHANGHAI).date()
    if today < date(year, 10, 1):  # the plan's evaluation runs October–December (agreement art. 3)
        raise ValidationFailed(_("年度考评于每年 10 月至 12 月开展，%(year)d 年度考评须在 %(year)d 年 10 月 1 日后开启。",
                                 year=year), {"year": _("该年度考评尚未到开启时间。")})
    if not isinstance(scoring_due, date) or scoring_due < today:
        raise ValidationFailed(_("评分截止日期有误。"), {"scoring_due": _("评分截止日期不能早于今天。")})
    standard.locked = True
    return long_jobs.start("evaluation_open", _("开启 %(year)d 年度考评", year=year), user,
                           year=year, scoring_due=scoring_due.isoformat())


@runner("evaluation_open")
def _open_year_job(job, step):
    started = start_cases(job.created_by, job.params["year"], date.fromisoformat(job.params["scoring_due"]), step)
    job.message = _("已开启 %(n)d 个小区的年度考评。", n=started)
    return None


def start_cases(user, year: int, scoring_due: date, step=None) -> int:
    """Start one case per community served by an enterprise. Each case commits on its own and
    pairs already open are left alone, so a job restarted after its worker died goes on
    where it stopped. Returns the number of cases started by this run."""
    standard = scoring.for_year(year)
    departments = scoring.departments(standard)
    due = datetime.combine(scoring_due, time(18, 0), SHANGHAI).isoformat()
    pairs = db.session.execute(db.select(Community.id, Community.enterprise_id).where(
        Community.enterprise_id.is_not(None)).order_by(Community.id)).all()
    existing = set(db.session.execute(db.select(Evaluation.community_id, Evaluation.enterprise_id).where(
        Evaluation.year == year)).all())
    started = 0
    for done, (community_id, enterprise_id) in enumerate(pairs, start=1):
        if step and done % 50 == 0:
            step(100 * done // len(pairs), _("已处理 %(done)d / %(total)d 个小区", done=done, total=len(pairs)))
        if (community_id, enterprise_id) in existing:
            continue
        community = db.session.get(Community, community_id)
        ev = Evaluation(year=year, standard_id=standard.id, enterprise_id=enterprise_id, community_id=community_id,
                        scoring_due=scoring_due, opened_by_id=user.id)
        db.session.add(ev)
        db.session.flush()
        audit.record("evaluation.opened", ev, after={"year": year, "community_id": community_id,
                                                    "enterprise_id": enterprise_id}, actor=user)
        instance = runtime.start(
            PROCESS, business_key=f"evaluation-{ev.id}", actor=user, subject=ev,
            title=f"{year} 年度考评 · {community.enterprise.name} · {community.name}",
            data={"evaluation_id": ev.id, "year": year, "departments": departments, "scoring_due": due},
            orgs={"enterprise_id": enterprise_id, "community_id": community_id,
                  "street_office_id": community.street_office_id})
        ev.instance_id = instance.id
        db.session.commit()
        started += 1
    return started


# ---------------------------------------------------------------- scoring and the total

def scoring_items(row: HumanTask):
    """The items a department's scoring task asks for (its role is the department)."""
    ev = for_instance(row.instance_id)
    if ev is None:
        return []
    return scoring.items_of(ev.standard, row.role)


def _collect_scores(ev: Evaluation) -> None:
    """The departments' completed scoring tasks, as score rows (the form checked each maximum)."""
    tasks = db.session.scalars(db.select(HumanTask).where(HumanTask.instance_id == ev.instance_id,
                                                          HumanTask.spec_id == "score",
                                                          HumanTask.status == "completed")).all()
    existing = {s.item_id: s for s in ev.scores}
    for task in tasks:
        data = task.completed_data or {}
        for item in scoring.items_of(ev.standard, task.role):
            value = data.get(f"i{item.id}")
            if value in (None, ""):
                continue
            points = _d(value)
            if not Decimal("0") <= points <= item.max_points:
                raise ValidationFailed(_("%(code)s 得分超过满分。", code=item.code))
            row = existing.get(item.id) or EvaluationScore(evaluation_id=ev.id, item_id=item.id)
            row.department, row.points, row.note = task.role, points, (data.get("note") or "")[:500]
            row.human_task_id, row.scored_by_id = task.id, task.completed_by_id
            db.session.add(row)
    db.session.flush()
    db.session.expire(ev, ["scores"])


def recompute(ev: Evaluation) -> Decimal:
    """The total and its breakdown, frozen on the evaluation: one line per departmental
    score, per feeder line and per accepted objection; the total is their sum."""
    items = {item.code: item for item in ev.standard.items}
    scores = {s.item_id: s for s in ev.scores}
    lines = []
    for item in ev.standard.items:
        score = scores.get(item.id)
        lines.append({"kind": "score", "item_code": item.code, "points": str(score.points if score else _d(0)),
                      "department": item.department, "task_id": score.human_task_id if score else None,
                      "title": (score.note if score else _("未评分，按 0 分计"))})
    for line in evaluation_inputs.collect(ev.enterprise_id, ev.community_id, ev.year):
        code = line.item_code if line.item_code in items else ""
        lines.append({"kind": "input", "item_code": code, "points": str(_d(line.points)), "source": line.source,
                      "source_id": line.source_id, "title": line.title})
    for objection in ev.objections:
        if objection.status == "accepted" and objection.adjustment:
            lines.append({"kind": "objection", "item_code": objection.item_code, "points": str(objection.adjustment),
                          "objection_id": objection.id, "title": _("异议采纳：%(reply)s", reply=objection.reply)})
    total = sum((Decimal(line["points"]) for line in lines), Decimal("0.00")).quantize(CENT)
    ev.total = max(total, Decimal("0.00"))
    ev.breakdown = {"lines": lines, "total": str(ev.total), "computed_at": utcnow().isoformat()}
    return ev.total


def scoring_progress(ev: Evaluation) -> list[HumanTask]:
    """The departments' scoring tasks of the case: who has scored, who is still due."""
    if ev.instance_id is None:
        return []
    return list(db.session.scalars(db.select(HumanTask).where(HumanTask.instance_id == ev.instance_id,
                                                              HumanTask.spec_id == "score").order_by(HumanTask.id)))


def breakdown_table(ev: Evaluation) -> list[dict]:
    """Per item, in standard order: its maximum, lines and subtotal; lines not tied to an
    item (none today, but a feeder may send one) come last under no item."""
    lines = (ev.breakdown or {}).get("lines", [])
    rows = []
    for item in ev.standard.items:
        mine = [line for line in lines if line["item_code"] == item.code]
        rows.append({"item": item, "lines": mine, "subtotal": sum((Decimal(x["points"]) for x in mine), Decimal("0"))})
    loose = [line for line in lines if not line["item_code"]]
    if loose:
        subtotal = sum((Decimal(x["points"]) for x in loose), Decimal("0"))
        rows.append({"item": None, "lines": loose, "subtotal": subtotal})
    return rows


def item_points(ev: Evaluation, item_code: str) -> Decimal:
    lines = (ev.breakdown or {}).get("lines", [])
    return sum((Decimal(x["points"]) for x in lines if x["item_code"] == item_code), Decimal("0"))


def _rating(ev: Evaluation) -> tuple[int, str, Decimal]:
    """(stars, grade, enterprise score) by the DMN tables: the stars from the average of the
    enterprise's communities' totals this year, the grade from this community's total."""
    totals = [t for t in db.session.scalars(db.select(Evaluation.total).where(
        Evaluation.enterprise_id == ev.enterprise_id, Evaluation.year == ev.year, Evaluation.total.is_not(None)))]
    enterprise_score = (sum(totals, Decimal("0")) / len(totals)).quantize(CENT) if totals else ev.total
    result = decisions.decide(RATING, {"enterprise_score": enterprise_score, "community_score": ev.total})
    return int(result["stars"]), str(result["grade"]), enterprise_score


def rate(ev: Evaluation) -> dict:
    """The evaluation's stars and grade, disclosed with its total. They take effect only when
    the result is final (`finalize`): through the disclosure period and its objections the
    enterprise and the community keep the stars and grade they had (`apply_rating`)."""
    stars, grade, enterprise_score = _rating(ev)
    before = {"stars": ev.star_rating, "grade": ev.grade}
    ev.star_rating, ev.grade = stars, grade
    audit.record("evaluation.rated", ev, before=before, after={"stars": stars, "grade": grade, "total": ev.total,
                                                               "enterprise_score": enterprise_score})
    return {"stars": stars, "grade": grade, "enterprise_score": str(enterprise_score)}


def apply_rating(ev: Evaluation) -> None:
    """A final result takes effect (`finalize`): the community's grade at once; the
    enterprise's stars once none of its evaluations of the year is still being scored or
    disclosed, decided afresh from their final totals (an objection accepted at one
    community moves the average another community's disclosure was rated on)."""
    before = {"stars": ev.enterprise.star_rating, "grade": ev.community.grade}
    ev.community.grade = ev.grade
    undecided = db.session.scalar(
        db.select(db.func.count(Evaluation.id))
        .outerjoin(ProcessInstance, ProcessInstance.id == Evaluation.instance_id)
        .where(Evaluation.enterprise_id == ev.enterprise_id, Evaluation.year == ev.year, Evaluation.id != ev.id,
               Evaluation.status != "final",
               db.or_(ProcessInstance.status.is_(None), ProcessInstance.status != "terminated")))
    if not undecided:
        ev.enterprise.star_rating = _rating(ev)[0]
    audit.record("evaluation.rating_applied", ev, before=before,
                 after={"stars": ev.enterprise.star_rating, "grade": ev.community.grade})


@operator("evaluation.compute", "计算考评总分与得分明细", params={"evaluation_id": "考评编号"})
def compute_operator(ctx, evaluation_id: int) -> dict:
    ev = _evaluation(evaluation_id)
    _collect_scores(ev)
    total = recompute(ev)
    audit.record("evaluation.computed", ev, after={"total": total, "lines": len(ev.breakdown["lines"])})
    return {"total": str(total)}


@operator("evaluation.rate", "按 DMN 评定企业星级与小区等级", params={"evaluation_id": "考评编号"})
def rate_operator(ctx, evaluation_id: int) -> dict:
    return rate(_evaluation(evaluation_id))


@operator("evaluation.disclose", "在小区公示考评结果（7 个工作日）", params={"evaluation_id": "考评编号"})
def disclose_operator(ctx, evaluation_id: int) -> dict:
    ev = _evaluation(evaluation_id)
    ends = working_days_deadline(DISCLOSURE_DAYS, now(), current_calendar())
    ev.status, ev.disclosure_ends = "disclosure", ends
    records.disclose(ev.community_id, "evaluation", f"{ev.year} 年度物业服务考评结果公示（{ev.enterprise.name}）",
                     body=f"考评得分 {ev.total} 分，企业星级 {ev.star_rating} 星，小区等级 {ev.grade}。"
                          f"公示期至 {ends.astimezone(SHANGHAI):%Y-%m-%d %H:%M}，期间业主或企业可提出异议。",
                     enterprise_id=ev.enterprise_id, instance_id=ctx.instance_id, ends_at=ends)
    from app.services.notify import notify_enterprise
    notify_enterprise(ev.enterprise_id, "evaluation",
                      _l("%(year)s 年度考评结果公示：%(community)s %(total)s 分", year=ev.year,
                         community=ev.community.name, total=ev.total),
                      _l("公示期至 %(ends)s，如有异议请在公示期内提出。", ends=f"{ends.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"))
    return {"ends": ends.isoformat()}


# ---------------------------------------------------------------- objections

def in_disclosure(ev: Evaluation) -> bool:
    return ev.status == "disclosure" and ev.disclosure_ends is not None and now() <= ev.disclosure_ends


def raise_objection(evaluation_id: int, data: dict, user=None) -> EvaluationObjection:
    """An objection from the enterprise (logged in) or an owner (public form with name and
    phone). Refused outside the disclosure period; the case's housing-center task follows."""
    ev = db.session.get(Evaluation, evaluation_id)
    if ev is None:
        raise NotFound(_("考评不存在。"))
    content = (data.get("content") or "").strip()
    errors = {}
    if not in_disclosure(ev):
        errors["content"] = _("该考评结果不在公示期内，不再受理异议。")
    elif not content:
        errors["content"] = _("请填写异议内容。")
    elif len(content) > MAX_OBJECTION:
        errors["content"] = _("异议内容不能超过 %(n)d 字。", n=MAX_OBJECTION)
    if user is not None and getattr(user, "is_authenticated", False) and user.has_role("enterprise"):
        if user.enterprise_id != ev.enterprise_id:
            raise Forbidden(_("只能对本企业的考评结果提出异议。"))
        raised_by, name, phone = "enterprise", ev.enterprise.name, ""
    else:
        raised_by, name = "owner", (data.get("name") or "").strip()
        phone = "".join(ch for ch in (data.get("phone") or "") if ch.isdigit())
        if not name:
            errors["name"] = _("请填写姓名。")
        if len(phone) != 11 or not phone.startswith("1"):
            errors["phone"] = _("请填写 11 位手机号码。")
        phone = mask_phone(phone)
    if errors:
        raise ValidationFailed(_("异议未提交。"), errors)
    objection = EvaluationObjection(evaluation_id=ev.id, raised_by=raised_by, name=name[:100], phone=phone,
                                    content=content, user_id=user.id if raised_by == "enterprise" else None)
    db.session.add(objection)
    db.session.flush()
    audit.record("evaluation.objection", objection, after={"evaluation_id": ev.id, "raised_by": raised_by},
                 actor=user if raised_by == "enterprise" else None)
    db.session.commit()
    objection_id = objection.id
    try:  # the case waits for it, unless the center is handling another one: then the loop picks it up
        runtime.deliver_message(MESSAGE, f"evaluation-{ev.id}", {"objection_id": objection_id})
    except (NotFound, Conflict):
        pass
    return db.session.get(EvaluationObjection, objection_id)


def pending_objection(ev: Evaluation) -> EvaluationObjection | None:
    return next((o for o in ev.objections if o.status == "pending"), None)


def check_decision(row: HumanTask, data: dict) -> dict:
    """Field problems of an objection decision: an accepted one names an item and keeps the
    item's points between 0 and its maximum."""
    ev = for_instance(row.instance_id)
    if ev is None or data.get("decision") != "accept":
        return {}
    item = next((i for i in ev.standard.items if i.code == data.get("item_code")), None)
    if item is None:
        return {"item_code": _("采纳异议须选择调整的考评条目。")}
    adjustment = data.get("adjustment")
    if adjustment in (None, "") or Decimal(str(adjustment)) == 0:
        return {"adjustment": _("采纳异议须填写调整分值（加分为正，扣分为负）。")}
    after = item_points(ev, item.code) + Decimal(str(adjustment))
    if after < 0 or after > item.max_points:
        return {"adjustment": _("调整后本项得分须在 0 至 %(max)s 分之间（现为 %(now)s 分）。", max=item.max_points,
                                now=item_points(ev, item.code))}
    return {}


@operator("evaluation.decide_objection", "记录异议处理结果（采纳则重新计分、评级）", params={"evaluation_id": "考评编号"})
def decide_objection(ctx, evaluation_id: int) -> dict:
    from app.services.tasks import last_completion
    ev = _evaluation(evaluation_id)
    objection = pending_objection(ev)
    task = last_completion(ctx.instance_id, "handle_objection")
    if objection is None or task is None:
        return {"more": False, "accepted": False}
    data = task.completed_data or {}
    objection.status = "accepted" if data.get("decision") == "accept" else "rejected"
    objection.reply = (data.get("reply") or "").strip()
    objection.decided_at, objection.decided_by_id = utcnow(), task.completed_by_id
    if objection.status == "accepted":
        objection.item_code, objection.adjustment = data.get("item_code"), _d(data.get("adjustment"))
        db.session.flush()
        recompute(ev)
        rate(ev)
    audit.record("evaluation.objection_decided", objection, after={"status": objection.status,
                                                                   "item_code": objection.item_code,
                                                                   "adjustment": objection.adjustment,
                                                                   "total": ev.total})
    return {"more": pending_objection(ev) is not None, "accepted": objection.status == "accepted"}


# ---------------------------------------------------------------- the final result

@operator("evaluation.finalize", "考评结果生效：诚信档案与年终结算", params={"evaluation_id": "考评编号"})
def finalize(ctx, evaluation_id: int) -> dict:
    ev = _evaluation(evaluation_id)
    ev.status, ev.finalized_at = "final", utcnow()
    apply_rating(ev)
    records.credit(ev.enterprise_id, "score", f"{ev.year} 年度考评得分 {ev.total} 分（{ev.community.name}）",
                   positive=ev.total >= Decimal("80"), points=ev.total, source="年度考评", instance_id=ctx.instance_id,
                   detail=f"企业星级 {ev.star_rating} 星，小区等级 {ev.grade}。")
    audit.record("evaluation.final", ev, after={"total": ev.total, "stars": ev.star_rating, "grade": ev.grade})
    jobs.enqueue("workers.evaluation.start_settlements", ev.id)
    from app.services.notify import notify_enterprise
    notify_enterprise(ev.enterprise_id, "evaluation",
                      _l("%(year)s 年度考评结果已生效：%(community)s %(total)s 分", year=ev.year,
                         community=ev.community.name, total=ev.total),
                      _l("企业星级 %(stars)s 星，小区等级 %(grade)s；监管资金年终结算将按此得分办理。",
                         stars=ev.star_rating, grade=ev.grade))
    return {"total": str(ev.total)}


def start_settlements(evaluation_id: int) -> int:
    """The year-end settlement of each supervised account of the enterprise at this
    community, with the final score; an account already started for the year is skipped."""
    from app.services import escrow
    ev = _evaluation(evaluation_id)
    if ev.status != "final":
        return 0
    started = 0
    accounts = db.session.scalars(db.select(EscrowAccount).where(EscrowAccount.enterprise_id == ev.enterprise_id,
                                                                 EscrowAccount.community_id == ev.community_id)).all()
    for account in accounts:
        key = f"year-end-{account.id}-{ev.year}"
        if db.session.scalar(db.select(ProcessInstance.id).where(ProcessInstance.business_key == key)):
            continue
        escrow.start_year_end(account.id, ev.year, ev.total)
        started += 1
    return started


# ---------------------------------------------------------------- public pages

def ranking(year: int) -> list[Evaluation]:
    """The city-wide ranking of a year: disclosed and final results, best first."""
    return list(db.session.scalars(db.select(Evaluation).where(
        Evaluation.year == year, Evaluation.status.in_(("disclosure", "final")))
        .order_by(Evaluation.total.desc(), Evaluation.id)))


def enterprise_ranking(year: int) -> list[dict]:
    """Enterprises by the average of their communities' disclosed totals (what their stars are
    decided on), best first."""
    by_enterprise: dict = {}
    for ev in ranking(year):
        by_enterprise.setdefault(ev.enterprise_id, []).append(ev)
    rows = [{"enterprise": evs[0].enterprise, "communities": len(evs),
             "average": (sum((e.total for e in evs), Decimal("0")) / len(evs)).quantize(CENT)}
            for evs in by_enterprise.values()]
    return sorted(rows, key=lambda r: (-r["average"], r["enterprise"].id))


def latest_public(community_id: int) -> Evaluation | None:
    return db.session.scalar(db.select(Evaluation).where(
        Evaluation.community_id == community_id, Evaluation.status.in_(("disclosure", "final")))
        .order_by(Evaluation.year.desc()).limit(1))


def public_years() -> list[int]:
    return list(db.session.scalars(db.select(Evaluation.year).where(
        Evaluation.status.in_(("disclosure", "final"))).distinct().order_by(Evaluation.year.desc())))


@summary("Evaluation")
def _summary(subject_id):
    ev = db.session.get(Evaluation, subject_id)
    if ev is None:
        return []
    return [(_("年度"), str(ev.year)), (_("物业企业"), ev.enterprise.name), (_("小区"), ev.community.name),
            (_("考评状态"), str(STATUSES.get(ev.status, ev.status))),
            (_("得分"), str(ev.total) if ev.total is not None else "—"),
            (_("评分部门"), "、".join(role_name(d) for d in scoring.departments(ev.standard)))]


def public_community(community_id: int) -> dict | None:
    """What the community's public page shows (no personal data): the current enterprise, its
    stars, the grade, the latest disclosed result with its breakdown, the escrow balance,
    the contract status, high-risk notices and the community's disclosures."""
    from app.models import Contract, Disclosure
    from app.services import contracts, escrow
    community = db.session.get(Community, community_id)
    if community is None:
        return None
    ev = latest_public(community_id)
    accounts = db.session.scalars(db.select(EscrowAccount).where(
        EscrowAccount.community_id == community.id, EscrowAccount.enterprise_id == community.enterprise_id)).all()
    contract = db.session.scalar(db.select(Contract).where(Contract.community_id == community.id)
                                 .order_by(Contract.id.desc()).limit(1))
    notices = db.session.scalars(db.select(Disclosure).where(Disclosure.community_id == community.id)
                                 .order_by(Disclosure.published_at.desc()).limit(50)).all()
    return {"community": community, "enterprise": community.enterprise, "evaluation": ev,
            "rows": breakdown_table(ev) if ev is not None else [],
            "balance": sum((escrow.balance(a.id) for a in accounts), Decimal("0.00")) if accounts else None,
            "contract_status": str(contracts.STATUSES.get(contract.status, contract.status)) if contract else None,
            "high_risk": bool(community.enterprise and community.enterprise.risk_status == "listed"),
            "risk_notices": [n for n in notices if n.kind in ("risk_notice", "high_risk")],
            "notices": notices, "may_object": ev is not None and in_disclosure(ev)}
