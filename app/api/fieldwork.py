"""Inspection findings and credit files, scoped exactly as on the pages (read-only); the
findings a page at a time."""
from flask import jsonify
from flask_login import current_user

from app.api import bp
from app.api.openapi import (BOOLEAN, DATE, DATETIME, DECIMAL, INTEGER, PATHS, STRING, array, nullable, op, page_of,
                             record)
from app.api.paging import PAGING, paged
from app.engine.calendar import SHANGHAI, now
from app.models import InspectionFinding
from app.permissions import scoped
from app.services import credit_file, inspections


def finding_json(f, moment) -> dict:
    return {"id": f.id, "community_id": f.community_id, "community": f.community.name,
            "enterprise_id": f.enterprise_id, "inspected_on": f.inspection.inspected_on.isoformat(),
            "department": f.inspection.department, "item": f.item, "description": f.description,
            "points": str(f.points), "deadline": f.deadline.isoformat(), "status": f.status,
            "overdue": inspections.is_overdue(f, moment)}


@bp.get("/inspections/findings")
def inspection_findings():
    moment = now()
    query = scoped(InspectionFinding, current_user).order_by(InspectionFinding.deadline, InspectionFinding.id)
    return jsonify(paged(query, lambda f: finding_json(f, moment)))


@bp.get("/enterprises/<int:enterprise_id>/credit")
def enterprise_credit(enterprise_id):
    enterprise = credit_file.enterprise_for(current_user, enterprise_id)
    today = now().astimezone(SHANGHAI).date()
    return jsonify(
        enterprise_id=enterprise.id,
        records=[{"id": r.id, "kind": r.kind, "positive": r.positive, "title": r.title, "source": r.source,
                  "points": None if r.points is None else str(r.points), "recorded_at": r.recorded_at.isoformat(),
                  "valid_until": r.valid_until.isoformat() if r.valid_until else None,
                  "in_force": credit_file.in_force(r, today)} for r in credit_file.timeline(enterprise.id)],
        policy_support=[{"code": s.code, "eligible": s.eligible, "reasons": s.reasons}
                        for s in credit_file.policy_support(enterprise)])


FINDING = record({"id": INTEGER, "community_id": INTEGER, "community": STRING, "enterprise_id": INTEGER,
                  "inspected_on": DATE, "department": STRING, "item": STRING, "description": STRING,
                  "points": DECIMAL, "deadline": DATETIME, "status": STRING, "overdue": BOOLEAN})
CREDIT = record({"enterprise_id": INTEGER, "records": array(record({
    "id": INTEGER, "kind": STRING, "positive": BOOLEAN, "title": STRING, "source": STRING,
    "points": nullable(DECIMAL), "recorded_at": DATETIME, "valid_until": nullable(DATE), "in_force": BOOLEAN})),
    "policy_support": array(record({"code": STRING, "eligible": BOOLEAN, "reasons": array(STRING)}))})
PATHS["/inspections/findings"] = {"get": op(
    "Daily inspection findings the caller may see, earliest deadline first, a page at a time", query=PAGING,
    ok=page_of(FINDING))}
PATHS["/enterprises/{enterprise_id}/credit"] = {"get": op(
    "An enterprise's credit file and policy support (the center's staff, or the enterprise itself)",
    {"404": {"description": "not found, or not the caller's own"}}, params=["enterprise_id"], ok=CREDIT)}
