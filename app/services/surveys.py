"""Owner satisfaction surveys (业主满意度, policy 三(三)): one survey per community per year,
answered without login through a per-household link (an unguessable token, also printed
as a QR code on a PDF sheet of numbered slips). One answer per household; a link works
only for its own year's survey, in that year, while the survey is open. Results are
aggregated only from `SURVEY_MIN_ANSWERS` answers on, and never show who answered or what
they wrote.

Evaluation feed (`@feeder("satisfaction")`): item code "SATISFACTION"; for a survey with
enough answers, one line of −(POINTS × (100 % − satisfaction rate)) points, where the
satisfaction rate is the share of households rating "overall" 4 or 5 out of 5: 80 %
satisfied → −2.00 of the 10 points. Below the minimum there is no line (nothing known).
"""
import base64
import io
import secrets
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.engine.calendar import SHANGHAI, now
from app.extensions import db
from app.models import Community, SatisfactionSurvey, SurveyAnswer, SurveyHousehold
from app.permissions import reads_all, register_scope, scoped
from app.services import audit, documents
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.evaluation_inputs import EvaluationInput, feeder

ITEM_CODE = "SATISFACTION"
POINTS = Decimal("10.00")  # the weight of satisfaction in the evaluation (all satisfied → no deduction)
QUESTIONS = {"attitude": _l("服务态度"), "cleanliness": _l("环境卫生"), "security": _l("安全秩序"),
             "maintenance": _l("设施设备维护"), "overall": _l("总体满意度")}
SCALE = {5: _l("非常满意"), 4: _l("满意"), 3: _l("一般"), 2: _l("不满意"), 1: _l("非常不满意")}
MAX_HOUSEHOLDS = 5000
SHEET_SLIPS = 120  # households per QR sheet PDF (10 A4 pages; bench/survey_qr_sheet.py)
CREATORS = ("housing_center", "street_office")
ANONYMOUS = SimpleNamespace(id=None, username="")  # the audit actor of an answer


def current_year() -> int:
    return now().astimezone(SHANGHAI).year


def minimum() -> int:
    return int(current_app.config.get("SURVEY_MIN_ANSWERS", 10))


@register_scope(SatisfactionSurvey)
def _survey_scope(query, user):
    """Departments all; an enterprise the surveys of its own service (also of a community it
    has since left); a street office its street's; an owners' committee its community's."""
    if reads_all(user):
        return query
    if user.enterprise_id:
        return query.where(SatisfactionSurvey.enterprise_id == user.enterprise_id)
    communities = scoped(Community, user, db.select(Community.id))
    return query.where(SatisfactionSurvey.community_id.in_(communities))


def get_for(user, survey_id: int) -> SatisfactionSurvey:
    survey = db.session.scalar(scoped(SatisfactionSurvey, user).where(SatisfactionSurvey.id == survey_id))
    if survey is None:
        raise NotFound(_("问卷不存在。"))
    return survey


# ---------------------------------------------------------------- opening a survey

def open_survey(user, community_id: int, households: int | None = None) -> SatisfactionSurvey:
    """This year's survey of a community, with one link per household."""
    if not user.has_role(*CREATORS):
        raise Forbidden(_("只有住保中心和街道办事处可以发起满意度调查。"))
    community = db.session.get(Community, community_id or 0)
    if community is None or community.enterprise_id is None:
        raise ValidationFailed(_("请选择有物业企业服务的小区。"), {"community_id": _("请选择有物业企业服务的小区。")})
    if not user.has_role("housing_center") and community.street_office_id != user.street_office_id:
        message = _("该小区不在本街道辖区内。")
        raise ValidationFailed(message, {"community_id": message})
    count = households or community.households
    if not count or not 1 <= count <= MAX_HOUSEHOLDS:
        message = _("户数须在 1 到 %(max)d 之间。", max=MAX_HOUSEHOLDS)
        raise ValidationFailed(message, {"households": message})
    year = current_year()
    if db.session.scalar(db.select(SatisfactionSurvey.id).where(SatisfactionSurvey.community_id == community.id,
                                                               SatisfactionSurvey.year == year)):
        message = _("该小区 %(year)d 年度的满意度调查已经发起。", year=year)
        raise ValidationFailed(message, {"community_id": message})
    survey = SatisfactionSurvey(community_id=community.id, enterprise_id=community.enterprise_id, year=year,
                                created_by_id=user.id)
    db.session.add(survey)
    db.session.flush()
    db.session.add_all([SurveyHousehold(survey_id=survey.id, number=n, token=secrets.token_urlsafe(24))
                        for n in range(1, count + 1)])
    audit.record("survey.open", survey, after={"community_id": community.id, "year": year, "households": count},
                 actor=user)
    db.session.commit()
    return survey


def close_survey(user, survey_id: int) -> SatisfactionSurvey:
    if not user.has_role(*CREATORS):
        raise Forbidden(_("只有住保中心和街道办事处可以结束满意度调查。"))
    survey = get_for(user, survey_id)
    survey.status = "closed"
    audit.record("survey.close", survey, after={"status": "closed"}, actor=user)
    db.session.commit()
    return survey


# ---------------------------------------------------------------- answering (no login)

def household_for(year: int, token: str) -> SurveyHousehold:
    """The household of a link, if the link may be answered now; a clear refusal otherwise."""
    household = db.session.scalar(db.select(SurveyHousehold).where(SurveyHousehold.token == (token or "")[:64]))
    if household is None:
        raise NotFound(_("问卷链接无效，请扫描小区公示栏上的二维码。"))
    survey = household.survey
    if year != survey.year or survey.year != current_year():
        raise ValidationFailed(_("此链接属于 %(year)d 年度的满意度调查，不能用于其他年度。", year=survey.year))
    if survey.status != "open":
        raise ValidationFailed(_("本次满意度调查已经结束。"))
    return household


def already_answered(household: SurveyHousehold) -> bool:
    return db.session.scalar(db.select(SurveyAnswer.id).where(SurveyAnswer.household_id == household.id)) is not None


def answer(year: int, token: str, scores: dict, comment: str = "") -> SurveyAnswer:
    """One household's answer; a second one is refused (the database holds that too)."""
    household = household_for(year, token)
    errors = {code: _("请选择满意程度。") for code in QUESTIONS if scores.get(code) not in SCALE}
    if errors:
        raise ValidationFailed(_("请回答每一个问题。"), errors)
    refused = Conflict(_("本户已经提交过问卷，每户只能提交一次。"))
    if already_answered(household):
        raise refused
    row = SurveyAnswer(survey_id=household.survey_id, household_id=household.id,
                       scores={code: int(scores[code]) for code in QUESTIONS}, comment=(comment or "").strip()[:1000])
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # the same household twice at once: the first one wins
        raise refused
    # Which household only, never the answer, and never who is logged in on this browser.
    audit.record("survey.answer", target_type="SatisfactionSurvey", target_id=household.survey_id,
                 after={"household": household.number}, actor=ANONYMOUS)
    db.session.commit()
    return row


# ---------------------------------------------------------------- results

def results(survey: SatisfactionSurvey) -> dict:
    """Aggregates only: the number of answers, and from the minimum on the average score per
    question and the satisfaction rate. Comments and households are never shown."""
    answers = db.session.scalars(db.select(SurveyAnswer.scores).where(SurveyAnswer.survey_id == survey.id)).all()
    households = db.session.scalar(db.select(db.func.count(SurveyHousehold.id))
                                   .where(SurveyHousehold.survey_id == survey.id))
    out = {"answers": len(answers), "households": households, "minimum": minimum(), "shown": len(answers) >= minimum()}
    if out["shown"]:
        n = Decimal(len(answers))
        out["averages"] = [(str(label), (sum(Decimal(a[code]) for a in answers) / n).quantize(Decimal("0.01")))
                           for code, label in QUESTIONS.items()]
        satisfied = sum(1 for a in answers if a["overall"] >= 4)
        out["rate"] = (Decimal(satisfied) * 100 / n).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return out


@feeder("satisfaction")
def evaluation_lines(enterprise_id: int, community_id: int, year: int) -> list[EvaluationInput]:
    survey = db.session.scalar(db.select(SatisfactionSurvey).where(
        SatisfactionSurvey.community_id == community_id, SatisfactionSurvey.year == year,
        SatisfactionSurvey.enterprise_id == enterprise_id))
    if survey is None:
        return []
    result = results(survey)
    if not result["shown"]:
        return []
    points = -(POINTS * (100 - result["rate"]) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return [EvaluationInput(item_code=ITEM_CODE, points=points, source="survey", source_id=survey.id,
                            title=f"业主满意度 {result['rate']}%（{result['answers']} 份答卷）")]


# ---------------------------------------------------------------- the QR sheet

def link(household: SurveyHousehold) -> str:
    """The public link of a household (the URL its QR code encodes)."""
    path = url_for("surveys.answer", year=household.survey.year, token=household.token)
    base = current_app.config.get("PUBLIC_BASE_URL") or ""
    return base.rstrip("/") + path if base else url_for("surveys.answer", year=household.survey.year,
                                                       token=household.token, _external=True)


def qr_png(data: str) -> str:
    """A QR code as a PNG data URI (WeasyPrint lays out PNGs several times faster than SVG
    paths; the sheet scales them without smoothing, so they print sharp)."""
    import qrcode
    code = qrcode.QRCode(box_size=5, border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def sheet_rows(survey: SatisfactionSurvey, first: int = 1, count: int | None = None) -> list[dict]:
    query = (db.select(SurveyHousehold).where(SurveyHousehold.survey_id == survey.id, SurveyHousehold.number >= first)
             .order_by(SurveyHousehold.number))
    if count:
        query = query.limit(count)
    return [{"number": h.number, "url": link(h)} for h in db.session.scalars(query)]


def sheet_ranges(survey: SatisfactionSurvey) -> list[tuple[int, int]]:
    """The QR sheet comes in parts of SHEET_SLIPS households each (a few seconds to render)."""
    total = db.session.scalar(db.select(db.func.count(SurveyHousehold.id)).where(SurveyHousehold.survey_id == survey.id))
    return [(first, min(first + SHEET_SLIPS - 1, total)) for first in range(1, total + 1, SHEET_SLIPS)]


def qr_sheet(user, survey_id: int, first: int = 1) -> tuple[str, bytes]:
    """(file name, PDF) of numbered slips from household `first` on (SHEET_SLIPS of them),
    one QR code per household, to post on the notice board or hand out."""
    survey = get_for(user, survey_id)
    if not user.has_role(*CREATORS):
        raise Forbidden(_("只有住保中心和街道办事处可以打印问卷二维码。"))
    rows = sheet_rows(survey, max(first, 1), SHEET_SLIPS)
    if not rows:
        raise NotFound(_("没有这些编号的住户。"))
    for row in rows:
        row["qr"] = qr_png(row["url"])
    audit.record("survey.qr_sheet", survey, after={"from": rows[0]["number"], "to": rows[-1]["number"]}, actor=user)
    db.session.commit()
    pdf = documents.render_pdf("documents/survey_qr_sheet.html", survey=survey, rows=rows)
    return f"{survey.community.name}-{survey.year}-满意度调查二维码-{rows[0]['number']}-{rows[-1]['number']}.pdf", pdf


def seed_demo(community) -> None:
    """Demo data: this year's survey of the first community with a dozen answers, so the
    results show (once)."""
    from app.models import User
    center = db.session.scalar(db.select(User).where(User.username == "zhubao"))
    if center is None or db.session.scalar(db.select(SatisfactionSurvey.id).limit(1)):
        return
    survey = open_survey(center, community.id, min(community.households or 50, 300))
    households = db.session.scalars(db.select(SurveyHousehold).where(SurveyHousehold.survey_id == survey.id)
                                    .order_by(SurveyHousehold.number).limit(12)).all()
    for i, household in enumerate(households):
        overall = (5, 4, 4, 3, 5, 4, 2, 4, 5, 3, 4, 4)[i]
        answer(survey.year, household.token, {code: overall for code in QUESTIONS})
