"""Enterprises and communities, scoped exactly as on the pages."""
from flask import jsonify

from app.api import bp
from app.extensions import db
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
    rows = db.session.scalars(scoped(Enterprise).order_by(Enterprise.id)).all()
    return jsonify(items=[enterprise_json(e) for e in rows])


@bp.get("/enterprises/<int:enterprise_id>")
def enterprise(enterprise_id):
    return jsonify(enterprise_json(ensure_visible(Enterprise, enterprise_id)))


@bp.get("/communities")
def communities():
    rows = db.session.scalars(scoped(Community).order_by(Community.id)).all()
    return jsonify(items=[community_json(c) for c in rows])
