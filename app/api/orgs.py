"""Enterprises and communities, scoped exactly as on the pages, a page at a time."""
from flask import jsonify

from app.api import bp
from app.api.openapi import COMMUNITY, ENTERPRISE, PATHS, op, page_of
from app.api.paging import PAGING, paged
from app.models import Community, Enterprise
from app.permissions import ensure_visible, scoped


def enterprise_json(e: Enterprise) -> dict:
    return {"id": e.id, "name": e.name, "uscc": e.uscc, "filing_status": e.filing_status,
            "under_supervision": e.under_supervision, "risk_status": e.risk_status}


def community_json(c: Community) -> dict:
    return {"id": c.id, "name": c.name, "street_office": c.street_office.name,
            "enterprise_id": c.enterprise_id, "households": c.households,
            "annual_receivable_fee": str(c.annual_receivable_fee)}


@bp.get("/enterprises")
def enterprises():
    return jsonify(paged(scoped(Enterprise).order_by(Enterprise.id), enterprise_json))


@bp.get("/enterprises/<int:enterprise_id>")
def enterprise(enterprise_id):
    return jsonify(enterprise_json(ensure_visible(Enterprise, enterprise_id)))


@bp.get("/communities")
def communities():
    return jsonify(paged(scoped(Community).order_by(Community.id), community_json))


PATHS.update({
    "/enterprises": {"get": op("Enterprises the caller may see, by id, a page at a time", query=PAGING,
                               ok=page_of(ENTERPRISE))},
    "/enterprises/{enterprise_id}": {"get": op("One enterprise", {"404": {"description": "not found or not visible"}},
                                               params=["enterprise_id"], ok=ENTERPRISE)},
    "/communities": {"get": op("Communities the caller may see, by id, a page at a time", query=PAGING,
                               ok=page_of(COMMUNITY))},
})
