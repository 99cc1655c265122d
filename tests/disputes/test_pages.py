"""Caseload, statistics and the mediation committees; who may open which page."""
from app.extensions import db
from app.models import Dispute, StreetMediator
from tests.disputes.conftest import open_task, post_signed, work_order


def test_statistics_and_caseloads(app, client, world, login_as, factory):
    post_signed(client, app, work_order("GD-S-1"))
    post_signed(client, app, work_order("GD-S-2", category="物业收费", content="乱收费"))
    post_signed(client, app, work_order("GD-S-3", address="吉首市峒河街道峒河湾", category="物业收费", content="收费"))
    center = login_as("housing_center")
    page = center.get("/disputes/stats").get_data(as_text=True)
    assert 'data-testid="by_category"' in page and "物业收费" in page and "公共设施维修" in page
    assert "世纪华庭" in page and "峒河湾" in page and "charts.js" in page
    street = login_as("street_office", org=world["street"])
    own = street.get("/disputes/stats").get_data(as_text=True)
    assert "世纪华庭" in own and "峒河湾" not in own  # a street sees its own figures
    listing = street.get("/disputes/").get_data(as_text=True)
    assert "GD-S-1" in listing and "GD-S-3" not in listing
    assert login_as("enterprise", org=world["enterprise"]).get("/disputes/stats").status_code == 403
    assert login_as("mediator").get("/disputes/stats").status_code == 403
    enterprise = login_as("enterprise", org=world["enterprise"]).get("/disputes/").get_data(as_text=True)
    assert "GD-S-1" in enterprise and "GD-S-3" not in enterprise
    assert "GD-S-1" not in login_as("mediator").get("/disputes/").get_data(as_text=True)  # on no committee


def test_mediation_committees(app, world, login_as, factory):
    newcomer = factory.user("mediator", username="mediator_new")
    street = login_as("street_office", org=world["street"])
    page = street.get("/disputes/mediators").get_data(as_text=True)
    assert "乾州街道" in page and "峒河街道" not in page.split("<form")[1]
    refused = street.post("/disputes/mediators", data={"user_id": newcomer.id, "street_office_id": world["other_street"].id})
    assert refused.status_code == 200 and db.session.get(StreetMediator, newcomer.id) is None
    street.post("/disputes/mediators", data={"user_id": newcomer.id, "street_office_id": world["street"].id})
    assert db.session.get(StreetMediator, newcomer.id).street_office_id == world["street"].id
    assert login_as("mediator").get("/disputes/mediators").status_code == 403


def test_the_case_page_shows_facts_to_its_parties_only(app, client, world, login_as):
    response, _ = post_signed(client, app, work_order("GD-P-1"))
    dispute_id = response.get_json()["dispute_id"]
    street = login_as("street_office", org=world["street"])
    page = street.get(f"/disputes/{dispute_id}").get_data(as_text=True)
    assert "GD-P-1" in page and "138****1234" in page and "13874301234" not in page
    case = street.get(f"/cases/{db.session.get(Dispute, dispute_id).instance_id}").get_data(as_text=True)
    assert "电梯停运" in case  # the case page summarises the dispute
    assert login_as("owner").get(f"/disputes/{dispute_id}").status_code == 403
    assert open_task(dispute_id).spec_id == "dispatch"
