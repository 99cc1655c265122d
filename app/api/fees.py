"""Fee collection (policy 五(四)) for integrations: collection rates and a community's
arrears, scoped exactly as on the pages (app/services/fees.py), a page at a time."""
from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from app.api import bp
from app.api.openapi import BOOLEAN, DATE, DECIMAL, INTEGER, PATHS, STRING, nullable, op, page_of, query_param, record
from app.api.paging import PAGING, paged, paged_list
from app.engine.calendar import SHANGHAI, now
from app.models import Community
from app.services import fees
from app.services.errors import Forbidden, ValidationFailed


def _year() -> int:
    this_year = now().astimezone(SHANGHAI).year
    try:
        year = int(request.args.get("year", this_year))
    except ValueError:
        year = 0
    if not 2020 <= year <= this_year + 1:
        raise ValidationFailed(_("年度须在 2020 至 %(max)d 之间。", max=this_year + 1),
                               {"year": _("年度须在 2020 至 %(max)d 之间。", max=this_year + 1)})
    return year


def _readers_only():
    if not fees.may_read(current_user):
        raise Forbidden(_("您无权办理此项业务。"))


def _rate_json(r: dict) -> dict:
    return {"community_id": r["community"].id, "community": r["community"].name, "year": r["year"],
            "has_roll": r["roll"] is not None, "receivable": str(r["receivable"]), "received": str(r["received"]),
            "matched": str(r["matched"]), "unmatched": str(r["unmatched"]),
            "rate": str(r["rate"]) if r["rate"] is not None else None}


@bp.get("/fees")
def fee_rates():
    _readers_only()
    year = _year()
    communities = fees.visible_communities(current_user).order_by(None).order_by(Community.name, Community.id)
    return jsonify(paged(communities, to_items=lambda page: [_rate_json(r) for r in fees.rates(page, year)]))


@bp.get("/fees/<int:community_id>/arrears")
def fee_arrears(community_id):
    _readers_only()
    year = _year()
    community = fees.community_for(current_user, community_id)
    return jsonify(community_id=community.id, year=year, **paged_list(fees.arrears(community, year), _arrear_json))


def _arrear_json(r: dict) -> dict:
    return {"room": r["household"].room, "owner_name": r["household"].owner_name, "fee": str(r["fee"]),
            "paid": str(r["paid"]), "owed": str(r["owed"]), "reminders": len(r["reminders"]),
            "last_urging": ({"on": r["last_urging"].urged_on.isoformat(), "outcome": r["last_urging"].outcome}
                            if r["last_urging"] else None)}


YEAR = query_param("year", "the fee year (default this year)", {"type": "integer"})
RATE = record({"community_id": INTEGER, "community": STRING, "year": INTEGER, "has_roll": BOOLEAN,
               "receivable": DECIMAL, "received": DECIMAL, "matched": DECIMAL, "unmatched": DECIMAL,
               "rate": nullable(DECIMAL)})
ARREAR = record({"room": STRING, "owner_name": STRING, "fee": DECIMAL, "paid": DECIMAL, "owed": DECIMAL,
                 "reminders": INTEGER, "last_urging": {"oneOf": [
                     {"type": "null"}, record({"on": DATE, "outcome": STRING})]}})
PATHS["/fees"] = {"get": op(
    "Fee collection rate of each visible community for a year, communities by name, a page at a time "
    "(lowest rate first within the page)", {"403": {"description": "a role that sees no fee collection"}},
    query=[YEAR, *PAGING], ok=page_of(RATE))}
PATHS["/fees/{community_id}/arrears"] = {"get": op(
    "Households in arrears of a community for a year, largest debt first, a page at a time",
    {"403": {"description": "a role that sees no fee collection"},
     "404": {"description": "no such community, or not visible to the caller"}}, params=("community_id",),
    query=[YEAR, *PAGING], ok=page_of(ARREAR, community_id=INTEGER, year=INTEGER))}
