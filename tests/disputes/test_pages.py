"""Caseload, statistics and the mediation committees; who may open which page; complaints
registered by the housing center."""
import re
from datetime import datetime

from app.engine import calendar
from app.engine.calendar import SHANGHAI
from app.extensions import db
from app.models import Community, Dispute, Enterprise, HotlineReply, StreetMediator
from tests.disputes.conftest import open_task, post_signed, work_order
from tests.html_tables import table_rows


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


def kpi(page, key):
    return re.search(rf'data-testid="{key}">([^<]*)<', page).group(1)


def closed_by_rectification(login_as, world, dispute_id, street_key, satisfaction):
    street = login_as("street_office", org=world[street_key])
    enterprise = login_as("enterprise", org=world["enterprise" if street_key == "street" else "other_enterprise"])
    street.post(f"/tasks/{open_task(dispute_id, 'dispatch').id}", data={
        "action": "complete", "handling": "rectify", "rectify_days": "3"})
    enterprise.post(f"/tasks/{open_task(dispute_id, 'rectify').id}", data={"action": "complete", "measures": "已整改"})
    street.post(f"/tasks/{open_task(dispute_id, 'return_visit').id}", data={
        "action": "complete", "satisfaction": str(satisfaction), "visit_note": "电话回访"})
    assert db.session.get(Dispute, dispute_id).status == "closed"


def test_statistics_of_closed_cases_match_the_database(app, client, world, login_as, hotline):
    """Time to resolve, satisfaction, on-time replies and the counts by category, community,
    enterprise and month, read from the page and from the database independently."""
    center = login_as("housing_center")
    calendar.set_clock(datetime(2026, 5, 6, 9, 0, tzinfo=SHANGHAI))
    try:
        first = post_signed(client, app, work_order("GD-ST-1", received_at="2026-04-30T16:00:00+08:00"))[0]
        second = post_signed(client, app, work_order("GD-ST-2", address="吉首市峒河街道峒河湾", category="物业收费",
                                                     content="物业费涨价未公示"))[0]
        center.post("/disputes/new", data={"category": "物业收费", "content": "停车费收据不规范",
                                           "community_id": world["community"].id})
        calendar.set_clock(datetime(2026, 5, 8, 9, 0, tzinfo=SHANGHAI))  # two days after it opened
        closed_by_rectification(login_as, world, first.get_json()["dispute_id"], "street", 5)
        calendar.set_clock(datetime(2026, 5, 10, 9, 0, tzinfo=SHANGHAI))  # four days
        closed_by_rectification(login_as, world, second.get_json()["dispute_id"], "other_street", 2)
    finally:
        calendar.set_clock(None)
    page = center.get("/disputes/stats").get_data(as_text=True)

    closed = db.session.execute(db.select(Dispute.created_at, Dispute.closed_at, Dispute.satisfaction)
                                .where(Dispute.closed_at.is_not(None))).all()
    days = [(c - o).total_seconds() / 86400 for o, c, _s in closed]
    scores = [s for _o, _c, s in closed]
    assert kpi(page, "total") == str(db.session.scalar(db.select(db.func.count(Dispute.id)))) == "3"
    assert kpi(page, "open") == str(db.session.scalar(db.select(db.func.count(Dispute.id)).where(
        Dispute.status != "closed"))) == "1"
    assert kpi(page, "avg_days") == str(round(sum(days) / len(days), 1)) == "3.0"
    assert kpi(page, "avg_satisfaction") == str(round(sum(scores) / len(scores), 2)) == "3.5"
    assert kpi(page, "satisfied_rate") == "50%"  # one of the two visited back rated 4–5
    sent = db.session.scalars(db.select(HotlineReply.on_time)).all()
    assert len(sent) == 2 and all(sent) and kpi(page, "on_time_rate") == "100%"

    def grouped(*columns, join=None):
        query = db.select(*columns, db.func.count(Dispute.id))
        if join is not None:
            query = query.join(join)
        return {row[0]: row[-1] for row in db.session.execute(query.group_by(*columns))}

    def shown(key):
        return {label: int(n) for label, n in table_rows(page, key)}

    assert shown("by_category") == grouped(Dispute.category) == {"公共设施维修": 1, "物业收费": 2}
    assert shown("by_community") == grouped(Community.name, join=Community) == {"世纪华庭": 2, "峒河湾": 1}
    assert shown("by_enterprise") == grouped(Enterprise.name, join=Enterprise) == {
        "吉首市乾元物业服务有限公司": 2, "湘西峒河物业管理有限公司": 1}
    months = {}
    for (received,) in db.session.execute(db.select(Dispute.received_at)):
        month = received.astimezone(SHANGHAI).strftime("%Y-%m")
        months[month] = months.get(month, 0) + 1
    assert shown("by_month") == months == {"2026-04": 1, "2026-05": 2}  # 30 April 16:00 is still April here
    assert shown("by_outcome") == {"企业整改解决": 2}

    # A street office sees its own street's figures only.
    own = login_as("street_office", org=world["other_street"]).get("/disputes/stats").get_data(as_text=True)
    assert kpi(own, "total") == "1" and kpi(own, "avg_days") == "4.0" and kpi(own, "avg_satisfaction") == "2.0"
    assert {label: int(n) for label, n in table_rows(own, "by_community")} == {"峒河湾": 1}


def test_a_complaint_registered_by_the_housing_center(app, world, login_as):
    center = login_as("housing_center")
    form = center.get("/disputes/new").get_data(as_text=True)
    assert "世纪华庭" in form and "峒河湾" in form  # any street's community
    done = center.post("/disputes/new", data={"category": "安全秩序", "content": "小区门禁损坏，外来人员随意进出",
                                              "caller_name": "赵女士", "caller_phone": "13911112222",
                                              "address": "吉首市峒河街道峒河湾 5 栋"}, follow_redirects=True)
    assert "投诉已登记" in done.get_data(as_text=True) and "住保中心受理" in done.get_data(as_text=True)
    dispute = db.session.scalar(db.select(Dispute))
    assert dispute.source == "housing_center" and dispute.created_by_id == center.user.id
    assert dispute.community_id == world["far"].id and dispute.caller_phone == "139****2222"  # matched by address
    task = open_task(dispute.id)
    assert task.spec_id == "dispatch" and task.street_office_id == world["other_street"].id
    unmatched = center.post("/disputes/new", data={"category": "其他", "content": "不知道是哪个小区",
                                                   "address": "吉首市某路 1 号"})
    assert unmatched.status_code == 302
    other = db.session.scalar(db.select(Dispute).where(Dispute.content == "不知道是哪个小区"))
    assert other.status == "triage" and open_task(other.id).role == "housing_center"
