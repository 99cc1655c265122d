"""The enterprise credit file (诚信档案, policy 三(一), 三(二), 三(五)): the timeline of good and
bad records that every process writes through `app.services.records.credit`, and the
policy support the enterprise is eligible for, derived from it.

A record is *in force* while its `valid_until` has not passed (no date: always); an
expired record stays visible in the timeline but no longer counts. "Points in force" is
the sum of the points of the records in force (deductions are negative). Both come from
`takeover.rating_evidence`, so recommendations and the credit file count alike.

Policy support (三(二): recommendation for new business, fee approval, subsidies) — the rule:

- Recommendation for new business (承接业务推荐): filed, under escrow supervision (an
  enterprise outside supervision is never recommended, public-benefit providers included,
  三(五)), not on the high-risk list, at most 3 bad records in force and points in force
  ≥ −10.
- Fee approval (物业服务费核定): filed, not on the high-risk list, points in force ≥ −10.
- Subsidies (奖补资金申报): everything the recommendation needs, points in force ≥ −5 and,
  once the annual evaluation has rated the enterprise, at least 3 stars.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.i18n import in_default_language
from app.models import CreditRecord, Enterprise
from app.services import records, takeover
from app.services.errors import Forbidden, NotFound, ValidationFailed

KINDS = {"filing": _l("备案"), "contract": _l("合同"), "inspection": _l("日常检查"), "complaint": _l("投诉"),
         "score": _l("考评"), "high_risk": _l("高风险"), "commendation": _l("表彰"),
         "device_repair_overdue": _l("设备维修超时"), "takeover": _l("应急接管"), "center": _l("住保中心记录")}
SUPPORTS = {"recommendation": _l("承接业务推荐"), "fee_approval": _l("物业服务费核定"), "subsidy": _l("奖补资金申报")}
MAX_BAD_RECORDS = 3
MIN_POINTS = Decimal("-10")
MIN_POINTS_SUBSIDY = Decimal("-5")
MIN_STARS_SUBSIDY = 3
READERS = ("housing_center", "housing_bureau", "admin", "enterprise")


@dataclass
class Support:
    code: str
    reasons: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(SUPPORTS[self.code])

    @property
    def eligible(self) -> bool:
        return not self.reasons


def enterprise_for(user, enterprise_id: int) -> Enterprise:
    """The center's staff see every file; an enterprise only its own (404 for another's)."""
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None or not (user.has_role("housing_center", "housing_bureau", "admin")
                                  or user.enterprise_id == enterprise_id):
        raise NotFound(_("企业不存在。"))
    return enterprise


def in_force(record: CreditRecord, today) -> bool:
    return record.valid_until is None or record.valid_until >= today


def timeline(enterprise_id: int) -> list[CreditRecord]:
    return db.session.scalars(db.select(CreditRecord).where(CreditRecord.enterprise_id == enterprise_id)
                              .order_by(CreditRecord.recorded_at.desc(), CreditRecord.id.desc())).all()


def policy_support(enterprise: Enterprise) -> list[Support]:
    """Eligibility for each kind of policy support, with the reasons where not (module docstring)."""
    evidence = takeover.rating_evidence([enterprise.id])[enterprise.id]
    base = takeover.check(enterprise, for_takeover=False)  # filed, supervised, not high-risk
    points_low = (_("有效扣分 %(points)s 分，低于 %(min)s 分", points=evidence.credit_points, min=MIN_POINTS)
                  if evidence.credit_points < MIN_POINTS else None)
    credit = [points_low] if points_low else []
    if evidence.bad_records > MAX_BAD_RECORDS:
        credit.append(_("有效不良记录 %(n)d 条，超过 %(max)d 条", n=evidence.bad_records, max=MAX_BAD_RECORDS))
    recommendation = Support("recommendation", base.reason_texts() + credit)
    fee = Support("fee_approval", [str(takeover.INELIGIBLE[code]) for code in base.reasons if code != "unsupervised"]
                  + ([points_low] if points_low else []))
    subsidy = Support("subsidy", list(recommendation.reasons))
    if MIN_POINTS <= evidence.credit_points < MIN_POINTS_SUBSIDY:
        subsidy.reasons.append(_("有效扣分 %(points)s 分，低于 %(min)s 分", points=evidence.credit_points,
                                 min=MIN_POINTS_SUBSIDY))
    if evidence.stars is not None and evidence.stars < MIN_STARS_SUBSIDY:
        subsidy.reasons.append(_("星级低于 %(n)d 星", n=MIN_STARS_SUBSIDY))
    return [recommendation, fee, subsidy]


def summary(enterprise: Enterprise) -> dict:
    evidence = takeover.rating_evidence([enterprise.id])[enterprise.id]
    return {"points": evidence.credit_points, "good": evidence.good_records, "bad": evidence.bad_records,
            "stars": evidence.stars}


def add_record(user, enterprise_id: int, data: dict) -> CreditRecord:
    """The housing center records a commendation (表彰) or a bad record of its own."""
    if not user.has_role("housing_center"):
        raise Forbidden(_("只有住保中心可以记入诚信档案。"))
    enterprise = db.session.get(Enterprise, enterprise_id)
    title = (data.get("title") or "").strip()
    errors = {}
    if enterprise is None:
        errors["title"] = _("企业不存在。")
    if not title:
        errors["title"] = _("请填写记录内容。")
    points = data.get("points")
    positive = data.get("positive") == "good"
    if points is not None and (abs(Decimal(points)) > 20):
        errors["points"] = _("分值须在 -20 到 20 之间。")
    if errors:
        raise ValidationFailed(_("记录有误，请按提示修改。"), errors)
    if points is not None:
        points = abs(Decimal(points)) if positive else -abs(Decimal(points))
    with in_default_language():  # the record's own words, whoever wrote it
        row = records.credit(enterprise.id, "commendation" if positive else "center", title[:300], positive=positive,
                             detail=(data.get("detail") or "").strip()[:4000], points=points, source=_("住保中心"),
                             valid_until=data.get("valid_until"), actor=user)
    db.session.commit()
    return row
