"""Daily inspections: any department records findings with photos and working-day
deadlines; a street office only in its street; the enterprise responds or appeals; the
housing center decides; open and overdue findings on the dashboards; the evaluation feed."""
import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from openpyxl import load_workbook

from app.engine.calendar import SHANGHAI, current_calendar
from app.engine.timers import working_days_deadline
from app.extensions import db
from app.models import CreditRecord, Inspection, InspectionFinding, InspectionPhoto, Notification
from app.services import evaluation_inputs
from tests.fieldwork.conftest import FINDING, MONDAY, PNG, inspection_form


def _record(client, community, **kwargs):
    return client.post("/inspections/new", data=inspection_form(community, **kwargs),
                       content_type="multipart/form-data")


def test_a_department_records_findings_the_enterprise_sees_them(app, world, login_as):
    own = login_as("enterprise", org=world["enterprise"])
    inspector = login_as("fire_brigade")
    form = inspector.get("/inspections/new").get_data(as_text=True)
    assert "世纪华庭" in form and "峒河湾" in form and 'capture="environment"' in form
    response = _record(inspector, world["community"], rows=[FINDING, {"item": "环境卫生", "description": "垃圾未清运",
                                                                      "points": "1", "days": "3"}],
                       photos=[("现场.png", PNG)])
    assert response.status_code == 302, response.get_data(as_text=True)
    inspection = db.session.scalar(db.select(Inspection))
    assert inspection.department == "fire_brigade" and inspection.items == ["环境卫生", "消防安全"]
    findings = inspection.findings
    assert [f.points for f in findings] == [Decimal("2.50"), Decimal("1.00")]
    assert findings[0].deadline == working_days_deadline(5, MONDAY, current_calendar())
    assert findings[0].deadline.astimezone(SHANGHAI).date().isoformat() == "2026-09-29"  # Mid-Autumn (25 Sep) is no working day
    photo = db.session.scalar(db.select(InspectionPhoto))
    page = inspector.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 栋消防通道堆放杂物" in page and f"/photos/{photo.attachment_id}" in page
    assert inspector.get(f"/inspections/{inspection.id}/photos/{photo.attachment_id}").data == PNG
    credit = db.session.scalars(db.select(CreditRecord).order_by(CreditRecord.id)).all()
    assert [(c.kind, c.positive, c.points, c.source) for c in credit] == [
        ("inspection", False, Decimal("-2.50"), "消防救援大队"), ("inspection", False, Decimal("-1.00"), "消防救援大队")]

    notice = db.session.scalar(db.select(Notification).where(Notification.user_id == own.user.id))
    assert notice.title == "日常检查发现 2 个问题：世纪华庭"
    listing = own.get("/inspections/").get_data(as_text=True)
    assert "3 栋消防通道堆放杂物" in listing and "垃圾未清运" in listing
    assert own.get(f"/inspections/findings/{findings[0].id}").status_code == 200
    home = own.get("/").get_data(as_text=True)
    assert 'data-testid="findings-open">2<' in home and "3 栋消防通道堆放杂物" in home
    export = own.get("/inspections/?format=xlsx")
    assert export.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(export.data)).active  # earliest deadline first
    assert [row[5] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["垃圾未清运", "3 栋消防通道堆放杂物"]
    assert "世纪华庭" in inspector.get("/inspections/?status=inspections").get_data(as_text=True)
    # Another enterprise sees nothing of it, not even that it exists.
    stranger = login_as("enterprise", org=world["other_enterprise"])
    assert "3 栋消防通道" not in stranger.get("/inspections/").get_data(as_text=True)
    assert "世纪华庭" not in stranger.get("/inspections/?status=inspections").get_data(as_text=True)
    assert stranger.get(f"/inspections/findings/{findings[0].id}").status_code == 404
    assert stranger.get(f"/inspections/{inspection.id}").status_code == 404
    assert stranger.get(f"/inspections/{inspection.id}/photos/{photo.attachment_id}").status_code == 404
    assert stranger.post(f"/inspections/findings/{findings[0].id}/appeal", data={"reason": "x"}).status_code == 404
    assert login_as("owner").get("/inspections/").status_code == 403
    assert own.get("/inspections/new").status_code == 403  # an enterprise does not inspect


def test_a_street_office_inspects_only_its_own_street(app, world, login_as):
    street = login_as("street_office", org=world["street"])
    form = street.get("/inspections/new").get_data(as_text=True)
    assert "世纪华庭" in form and "峒河湾" not in form
    refused = _record(street, world["far"], rows=[FINDING])
    assert refused.status_code == 422
    assert "该小区不在本街道辖区内，不能检查。" in refused.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Inspection.id))) == 0
    assert db.session.scalar(db.select(db.func.count(CreditRecord.id))) == 0
    assert _record(street, world["community"], rows=[FINDING]).status_code == 302
    assert 'data-testid="findings-open">1<' in street.get("/").get_data(as_text=True)
    # The street sees its own street's findings only.
    other = login_as("street_office", org=world["other_street"])
    assert "3 栋消防通道" not in other.get("/inspections/").get_data(as_text=True)
    assert 'data-testid="findings-open">0<' in other.get("/").get_data(as_text=True)


def test_bad_input_is_refused_at_the_field_and_changes_nothing(app, world, login_as):
    inspector = login_as("natural_resources")
    cases = [
        ({"rows": [{**FINDING, "points": "25"}]}, "findings-0-points"),
        ({"rows": [{**FINDING, "description": ""}]}, "findings-0-description"),
        ({"rows": [{**FINDING, "days": "0"}]}, "findings-0-days"),
        ({"items": ()}, "items"),
        ({"photos": [("scan.pdf", b"%PDF-1.4")]}, "photos"),
        ({"photos": [("fake.png", b"not an image")]}, "photos"),
    ]
    for kwargs, field in cases:
        response = _record(inspector, world["community"], **kwargs)
        assert response.status_code == 422, field
        assert f'data-field-error="{field}"' in response.get_data(as_text=True), field
    assert db.session.scalar(db.select(db.func.count(Inspection.id))) == 0
    assert db.session.scalar(db.select(db.func.count(InspectionFinding.id))) == 0
    assert db.session.scalar(db.select(db.func.count(CreditRecord.id))) == 0


def _one_finding(login_as, world):
    _record(login_as("housing_center"), world["community"], rows=[FINDING])
    return db.session.scalar(db.select(InspectionFinding))


def test_response_appeal_and_the_centers_decision(app, world, login_as):
    finding = _one_finding(login_as, world)
    own = login_as("enterprise", org=world["enterprise"])
    assert own.post(f"/inspections/findings/{finding.id}/respond", data={"response": ""}).status_code == 422
    assert own.post(f"/inspections/findings/{finding.id}/respond",
                    data={"response": "杂物已清理，通道畅通"}).status_code == 302
    assert db.session.get(InspectionFinding, finding.id).status == "rectified"
    assert own.post(f"/inspections/findings/{finding.id}/appeal", data={"reason": "杂物系业主装修临时堆放"}).status_code == 302
    assert db.session.get(InspectionFinding, finding.id).status == "appealed"
    again = own.post(f"/inspections/findings/{finding.id}/appeal", data={"reason": "再次申诉"})
    assert again.status_code == 422 and "每个问题只能申诉一次。" in again.get_data(as_text=True)
    # Only the housing center decides; a department or the enterprise cannot.
    assert own.post(f"/inspections/findings/{finding.id}/decide", data={"accepted": "yes"}).status_code == 403
    assert login_as("fire_brigade").post(f"/inspections/findings/{finding.id}/decide",
                                         data={"accepted": "yes"}).status_code == 403
    center = login_as("housing_center")
    page = center.get(f"/inspections/findings/{finding.id}").get_data(as_text=True)
    assert "决定申诉" in page and "杂物系业主装修临时堆放" in page
    assert evaluation_inputs.collect(world["enterprise"].id, world["community"].id, 2026)[0].points == Decimal("-2.50")
    assert center.post(f"/inspections/findings/{finding.id}/decide",
                       data={"accepted": "yes", "note": "经核实属业主行为"}).status_code == 302
    assert db.session.get(InspectionFinding, finding.id).status == "void"
    # The void deduction no longer feeds the evaluation; the credit file shows both records.
    assert [line for line in evaluation_inputs.collect(world["enterprise"].id, world["community"].id, 2026)
            if line.source == "inspection"] == []
    credit = db.session.scalars(db.select(CreditRecord).order_by(CreditRecord.id)).all()
    assert [(c.positive, c.points) for c in credit] == [(False, Decimal("-2.50")), (True, None)]
    assert center.post(f"/inspections/findings/{finding.id}/decide", data={"accepted": "yes"}).status_code == 422


def test_a_rejected_appeal_keeps_the_deduction(app, world, login_as):
    finding = _one_finding(login_as, world)
    own = login_as("enterprise", org=world["enterprise"])
    own.post(f"/inspections/findings/{finding.id}/appeal", data={"reason": "不同意"})
    center = login_as("housing_center")
    no_reason = center.post(f"/inspections/findings/{finding.id}/decide", data={"accepted": "no", "note": ""})
    assert no_reason.status_code == 422 and db.session.get(InspectionFinding, finding.id).status == "appealed"
    center.post(f"/inspections/findings/{finding.id}/decide", data={"accepted": "no", "note": "现场照片为证"})
    assert db.session.get(InspectionFinding, finding.id).status == "open"
    lines = evaluation_inputs.collect(world["enterprise"].id, world["community"].id, 2026)
    assert [(line.item_code, line.points, line.source, line.source_id) for line in lines] == [
        ("INSPECTION", Decimal("-2.50"), "inspection", finding.id)]
    assert evaluation_inputs.collect(world["enterprise"].id, world["community"].id, 2025) == []
    assert evaluation_inputs.collect(world["other_enterprise"].id, world["far"].id, 2026) == []


def test_overdue_findings_show_as_overdue(app, world, login_as, clock):
    finding = _one_finding(login_as, world)
    center = login_as("housing_center")
    assert 'data-testid="findings-overdue">超期 0<' in center.get("/").get_data(as_text=True)
    clock(finding.deadline + timedelta(minutes=1))
    home = center.get("/").get_data(as_text=True)
    assert 'data-testid="findings-open">1<' in home and 'data-testid="findings-overdue">超期 1<' in home
    overdue = center.get("/inspections/?status=overdue").get_data(as_text=True)
    assert f'data-finding="{finding.id}"' in overdue and 'data-testid="overdue"' in overdue
    assert 'data-testid="overdue"' in center.get(f"/inspections/findings/{finding.id}").get_data(as_text=True)
    # A rectified finding is no longer open, however late.
    login_as("enterprise", org=world["enterprise"]).post(f"/inspections/findings/{finding.id}/respond",
                                                         data={"response": "已整改"})
    assert f'data-finding="{finding.id}"' not in center.get("/inspections/?status=overdue").get_data(as_text=True)


def test_the_form_proposes_todays_date_in_jishou(app, world, login_as, clock):
    clock(datetime(2026, 9, 21, 17, 30, tzinfo=timezone.utc))  # 01:30 on 22 September in Jishou
    form = login_as("fire_brigade").get("/inspections/new").get_data(as_text=True)
    assert 'value="2026-09-22"' in form and 'value="2026-09-21"' not in form
