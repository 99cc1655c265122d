"""Who may take an emergency takeover and who is recommended for new business (policy
三(五)): filed, under escrow supervision, not high-risk — each reason shown; the
public-benefit exception to supervision, marked as such; recommendations ranked."""
from app.extensions import db
from app.models import EmergencyTakeover, HumanTask, TakeoverCandidate
from app.services import takeover
from tests.html_tables import table_rows
from tests.takeover.conftest import act, client_for, open_case, propose, rate, takeover_task


def test_each_reason_and_the_public_benefit_exception(world):
    results = {key: takeover.check(world[key]) for key in
               ("good", "unfiled", "unsupervised", "listed", "public", "public_listed")}
    assert results["good"].eligible and not results["good"].exception
    assert results["unfiled"].reasons == ["unfiled"]
    assert results["unsupervised"].reasons == ["unsupervised"]
    assert results["listed"].reasons == ["high_risk"]
    assert results["public"].eligible and results["public"].exception
    assert results["public"].describe() == "公益性基础服务企业，可不纳入资金监管（例外）"
    # The exception covers supervision only: a listed public-benefit provider stays barred.
    assert results["public_listed"].reasons == ["high_risk"] and results["public_listed"].exception
    assert results["unsupervised"].reason_texts() == ["未纳入物业服务费资金监管"]
    # Recommendations know no exception: the public-benefit provider is unsupervised there.
    assert takeover.check(world["public"], for_takeover=False).reasons == ["unsupervised"]


def test_the_proposal_form_shows_why_each_candidate_is_not_eligible(app, world):
    staff = client_for(app, world["staff"])
    opened = open_case(staff, world["community"])
    assert opened.status_code == 302 and "/tasks/" in opened.location
    page = staff.get(opened.location).get_data(as_text=True)
    assert "乾元物业（符合条件）" in page
    assert "无备案物业（不符合：未在住保中心备案）" in page
    assert "未监管物业（不符合：未纳入物业服务费资金监管）" in page
    assert "高风险物业（不符合：已列入高风险企业管控名单）" in page
    assert "城投公益物业（公益性基础服务企业，可不纳入资金监管（例外））" in page


def test_proposing_an_ineligible_candidate_is_refused_with_its_reasons_and_changes_nothing(app, world):
    staff = client_for(app, world["staff"])
    open_case(staff, world["community"])
    takeover_id = db.session.scalar(db.select(EmergencyTakeover.id))
    for key, reason in (("unfiled", "未在住保中心备案"), ("unsupervised", "未纳入物业服务费资金监管"),
                        ("listed", "已列入高风险企业管控名单"), ("public_listed", "已列入高风险企业管控名单")):
        refused = propose(staff, takeover_id, [world["good"], world[key]])
        text = refused.get_data(as_text=True)
        assert f"{world[key].name}：{reason}" in text, key
        assert "以下人选不符合承接应急小区服务的条件" in text
        assert takeover_task(takeover_id).spec_id == "propose"
    assert db.session.scalar(db.select(db.func.count(TakeoverCandidate.id))) == 0
    assert db.session.get(EmergencyTakeover, takeover_id).status == "proposing"


def test_the_public_benefit_exception_is_accepted_and_marked(app, world):
    staff = client_for(app, world["staff"])
    open_case(staff, world["community"])
    takeover_id = db.session.scalar(db.select(EmergencyTakeover.id))
    propose(staff, takeover_id, [world["public"], world["good"]])
    t = db.session.get(EmergencyTakeover, takeover_id)
    assert t.status == "approval"
    public = next(c for c in t.candidates if c.enterprise_id == world["public"].id)
    assert public.eligible and public.exception and public.reasons == [] and public.rank == 1
    approval = takeover_task(takeover_id, "approve")
    head = client_for(app, world["head"])
    form = head.get(f"/tasks/{approval.id}").get_data(as_text=True)
    assert "城投公益物业（公益性基础服务企业，例外）" in form
    page = head.get(f"/takeovers/{takeover_id}").get_data(as_text=True)
    assert "例外" in page and "公益性基础服务企业，可不纳入资金监管（例外）" in page
    act(head, approval, decision="approve", enterprise_id=world["public"].id, comment="公益企业先行托底")
    assert db.session.get(EmergencyTakeover, takeover_id).enterprise_id == world["public"].id


def test_a_candidate_listed_after_the_proposal_cannot_be_approved(app, world):
    from tests.takeover.conftest import list_high_risk
    staff = client_for(app, world["staff"])
    open_case(staff, world["community"])
    takeover_id = db.session.scalar(db.select(EmergencyTakeover.id))
    propose(staff, takeover_id, [world["regular"]])
    list_high_risk(world["regular"], world["center"], world["bureau"])
    head = client_for(app, world["head"])
    task = takeover_task(takeover_id, "approve")
    refused = act(head, task, decision="approve", enterprise_id=world["regular"].id)
    assert "该企业现已不符合条件：已列入高风险企业管控名单" in refused.get_data(as_text=True)
    assert db.session.get(HumanTask, task.id).status == "open"


def test_recommendations_exclude_the_unsupervised_and_high_risk_and_rank_by_rating(app, world, login_as):
    from app.services import records
    records.credit(world["good"].id, "commendation", "年度优秀物业项目", positive=True, points=3)
    records.credit(world["regular"].id, "complaint", "核实投诉", points=-1)
    db.session.commit()
    recommended, excluded = takeover.recommendations()
    names = [e.enterprise.name for e, _ev in recommended]
    # star rating first, then credit points in force: 德馨(4★) > 乾元(+3) > 武陵山(-1)
    assert names == ["德馨物业", "乾元物业", "武陵山物业"]
    reasons = {e.enterprise.name: e.reasons for e in excluded}
    assert reasons["未监管物业"] == ["unsupervised"] and reasons["城投公益物业"] == ["unsupervised"]
    assert reasons["高风险物业"] == ["high_risk"] and reasons["无备案物业"] == ["unfiled"]

    page = login_as("street_office").get("/takeovers/recommendations").get_data(as_text=True)
    assert page.index("德馨物业") < page.index("乾元物业") < page.index("武陵山物业") < page.index("不予推荐的企业")
    assert "按 2025 年度考评评定的企业星级排序" in page and "尚无企业经年度考评评定星级" not in page
    assert login_as("enterprise").get("/takeovers/recommendations").status_code == 403
    assert login_as("fire_brigade").get("/takeovers/recommendations").status_code == 200


def test_recommendations_rank_by_the_stars_the_annual_evaluation_rated(app, world, login_as):
    """Ratings from the evaluation's DMN tables outrank the credit file: 武陵山 (96 → 5★)
    moves above 德馨 (92 → 4★), and 乾元, rated 85 → 3★, below both despite its good record."""
    from app.services import records
    records.credit(world["good"].id, "commendation", "年度优秀物业项目", positive=True, points=3)
    db.session.commit()
    assert rate(world["regular"], "96.00") == 5 and rate(world["good"], "85.00") == 3
    db.session.expire_all()
    assert (world["regular"].star_rating, world["rated"].star_rating, world["good"].star_rating) == (5, 4, 3)
    recommended, _excluded = takeover.recommendations()
    assert [e.enterprise.name for e, _ev in recommended] == ["武陵山物业", "德馨物业", "乾元物业"]

    page = login_as("street_office").get("/takeovers/recommendations").get_data(as_text=True)
    rows = table_rows(page, "recommended")
    assert [r[1:3] for r in rows[1:]] == [["武陵山物业", "★★★★★"], ["德馨物业", "★★★★☆"], ["乾元物业", "★★★☆☆"]]
    assert "按 2025 年度考评评定的企业星级排序" in page


def test_without_an_evaluation_the_page_says_it_ranks_by_the_credit_file(app, factory, login_as):
    from app.services import records
    for name in ("甲物业", "乙物业"):
        enterprise = factory.enterprise(name=name)
        enterprise.filing_status, enterprise.under_supervision = "filed", True
    records.credit(enterprise.id, "commendation", "年度优秀物业项目", positive=True, points=2)  # 乙 first
    db.session.commit()
    page = login_as("street_office").get("/takeovers/recommendations").get_data(as_text=True)
    basis = page.split('data-testid="ranking-basis">')[1].split("</span>")[0]
    assert basis.strip() == "尚无企业经年度考评评定星级，暂按诚信档案有效记录分值和不良记录数排序。"
    assert [r[1:3] for r in table_rows(page, "recommended")[1:]] == [["乙物业", "未评级"], ["甲物业", "未评级"]]
