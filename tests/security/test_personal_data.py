"""Personal data is masked by default; only the roles whose work needs it see it in full,
one value at a time, and every full view is in the audit log."""
from app.extensions import db
from app.models import AuditEvent


def reveals():
    return db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "personal_data.revealed")
                              .order_by(AuditEvent.id)).all()


def test_the_center_reveals_an_id_number_and_the_view_is_audited(login_as, factory):
    id_number = factory.person_id()
    enterprise = factory.enterprise(name="乾元物业", legal_rep_name="向东", legal_rep_id_number=id_number,
                                    contact_phone="13874300001")
    center = login_as("housing_center")
    page = center.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)
    assert id_number not in page and "13874300001" not in page
    assert id_number[:3] + "*" in page and 'data-testid="reveal-id_number"' in page
    assert reveals() == []

    person_id = enterprise.legal_rep.id
    shown = center.post(f"/reveal/person/{person_id}/id_number")
    assert shown.status_code == 200 and id_number in shown.get_data(as_text=True)
    assert "13874300001" in center.post(f"/reveal/enterprise/{enterprise.id}/contact_phone").get_data(as_text=True)
    events = reveals()
    assert [(e.target_type, e.after["field"], e.actor_id) for e in events] == [
        ("Person", "id_number", center.user.id), ("Enterprise", "contact_phone", center.user.id)]


def test_others_see_the_masked_value_only_and_cannot_reveal(login_as, factory):
    id_number = factory.person_id()
    enterprise = factory.enterprise(name="乾元物业", legal_rep_name="向东", legal_rep_id_number=id_number)
    own = login_as("enterprise", org=enterprise)
    page = own.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)
    assert id_number not in page and 'data-testid="reveal-id_number"' not in page
    assert own.post(f"/reveal/person/{enterprise.legal_rep.id}/id_number").status_code == 403
    assert login_as("street_office").post(f"/reveal/person/{enterprise.legal_rep.id}/id_number").status_code == 403
    center = login_as("housing_center")
    assert center.post(f"/reveal/person/{enterprise.legal_rep.id}/password_hash").status_code == 404
    assert center.post("/reveal/user/1/password_hash").status_code == 404
    assert center.post(f"/reveal/person/{enterprise.legal_rep.id + 999}/id_number").status_code == 404
    assert reveals() == []

