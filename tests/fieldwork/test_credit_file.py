"""The credit file: the timeline of good and bad records (inspections and appeals, filing,
contracts and the high-risk list among them) with source and date, policy support derived
from it, and who may see it."""
import re
from decimal import Decimal

from app.engine.calendar import SHANGHAI
from app.extensions import db
from app.models import CreditRecord, Enterprise, InspectionFinding
from app.services import credit_file, records
from tests.fieldwork.conftest import FINDING, inspection_form


def _supports(page: str) -> dict:
    return dict(re.findall(r'data-support="(\w+)" data-eligible="(\w+)"', page))


def _eligible(enterprise) -> dict:
    return {s.code: s.eligible for s in credit_file.policy_support(db.session.get(Enterprise, enterprise.id))}


def _supervised(enterprise, **changes):
    row = db.session.get(Enterprise, enterprise.id)
    row.filing_status, row.under_supervision = "filed", True
    for key, value in changes.items():
        setattr(row, key, value)
    db.session.commit()


def test_the_timeline_shows_inspections_and_appeals_with_source_and_date(app, world, login_as):
    _supervised(world["enterprise"])
    login_as("market_regulation").post("/inspections/new", data=inspection_form(world["community"], rows=[FINDING]),
                                       content_type="multipart/form-data")
    finding = db.session.scalar(db.select(InspectionFinding))
    login_as("enterprise", org=world["enterprise"]).post(f"/inspections/findings/{finding.id}/appeal",
                                                         data={"reason": "不属实"})
    center = login_as("housing_center")
    center.post(f"/inspections/findings/{finding.id}/decide", data={"accepted": "yes", "note": "核实不属实"})
    page = center.get(f"/credit/{world['enterprise'].id}").get_data(as_text=True)
    assert "日常检查发现问题：世纪华庭 · 消防安全" in page and "市场监管局" in page and "（-2.50）" in page
    assert "申诉成立，日常检查扣分作废：世纪华庭 · 消防安全" in page and "住保中心" in page
    recorded = db.session.scalar(db.select(CreditRecord).order_by(CreditRecord.id)).recorded_at
    assert recorded.astimezone(SHANGHAI).date().isoformat() in page  # the date of each record
    assert "已失效" in page  # the voided finding's record stays visible but no longer counts
    assert _supports(page) == {"recommendation": "yes", "fee_approval": "yes", "subsidy": "yes"}


def test_policy_support_follows_the_rule(app, world, login_as):
    enterprise = world["enterprise"]
    # Outside escrow supervision: never recommended, not even as a public-benefit provider.
    _supervised(enterprise, under_supervision=False, is_public_benefit=True)
    assert _eligible(enterprise) == {"recommendation": False, "fee_approval": True, "subsidy": False}
    _supervised(enterprise)
    assert _eligible(enterprise) == {"recommendation": True, "fee_approval": True, "subsidy": True}
    # Deductions in force: below −5 no subsidy, below −10 no recommendation and no fee approval.
    records.credit(enterprise.id, "inspection", "扣分 6", points=Decimal("-6"))
    db.session.commit()
    assert _eligible(enterprise) == {"recommendation": True, "fee_approval": True, "subsidy": False}
    records.credit(enterprise.id, "complaint", "扣分 5", points=Decimal("-5"))
    db.session.commit()
    assert _eligible(enterprise) == {"recommendation": False, "fee_approval": False, "subsidy": False}
    # An expired record no longer counts.
    from datetime import date
    db.session.scalar(db.select(CreditRecord).where(CreditRecord.title == "扣分 5")).valid_until = date(2026, 1, 1)
    db.session.commit()
    assert _eligible(enterprise) == {"recommendation": True, "fee_approval": True, "subsidy": False}
    # More than three bad records in force: not recommended; a star rating under 3: no subsidy.
    for n in range(3):
        records.credit(enterprise.id, "complaint", f"投诉 {n}")
    db.session.commit()
    assert _eligible(enterprise)["recommendation"] is False
    other = world["other_enterprise"]
    _supervised(other, star_rating=2)
    assert _eligible(other) == {"recommendation": True, "fee_approval": True, "subsidy": False}
    _supervised(other, risk_status="listed", star_rating=None)
    assert _eligible(other) == {"recommendation": False, "fee_approval": False, "subsidy": False}


def test_the_center_records_a_commendation(app, world, login_as):
    center = login_as("housing_center")
    bad = center.post(f"/credit/{world['enterprise'].id}/records", data={"positive": "good", "title": ""})
    assert bad.status_code == 422 and 'data-field-error="title"' in bad.get_data(as_text=True)
    center.post(f"/credit/{world['enterprise'].id}/records",
                data={"positive": "good", "title": "2026 年防汛抢险表彰", "points": "2"})
    row = db.session.scalar(db.select(CreditRecord))
    assert (row.kind, row.positive, row.points, row.title) == ("commendation", True, Decimal("2.00"), "2026 年防汛抢险表彰")
    own = login_as("enterprise", org=world["enterprise"])
    assert own.post(f"/credit/{world['enterprise'].id}/records",
                    data={"positive": "good", "title": "自我表彰"}).status_code == 403
    assert db.session.scalar(db.select(db.func.count(CreditRecord.id))) == 1


def test_only_the_center_and_the_enterprise_itself_see_the_file(app, world, login_as):
    records.credit(world["enterprise"].id, "complaint", "核实投诉：物业收费")
    db.session.commit()
    own = login_as("enterprise", org=world["enterprise"])
    assert own.get("/credit/").headers["Location"].endswith(f"/credit/{world['enterprise'].id}")
    assert "核实投诉：物业收费" in own.get(f"/credit/{world['enterprise'].id}").get_data(as_text=True)
    stranger = login_as("enterprise", org=world["other_enterprise"])
    assert stranger.get(f"/credit/{world['enterprise'].id}").status_code == 404
    assert stranger.get("/credit/99999").status_code == 404
    assert login_as("street_office", org=world["street"]).get(f"/credit/{world['enterprise'].id}").status_code == 403
    assert login_as("owner").get(f"/credit/{world['enterprise'].id}").status_code == 403
    listing = login_as("housing_center").get("/credit/").get_data(as_text=True)
    assert "吉首市乾元物业服务有限公司" in listing and "湘西峒河物业管理有限公司" in listing


def test_the_api_gives_findings_and_credit_files_scoped_as_the_pages(app, world, login_as, api_client):
    login_as("natural_resources").post("/inspections/new", data=inspection_form(world["community"], rows=[FINDING]),
                                       content_type="multipart/form-data")
    own, headers = api_client("enterprise", org=world["enterprise"])
    findings = own.get("/api/v1/inspections/findings", headers=headers).get_json()["items"]
    assert [(f["community"], f["points"], f["status"], f["overdue"]) for f in findings] == [
        ("世纪华庭", "2.50", "open", False)]
    credit = own.get(f"/api/v1/enterprises/{world['enterprise'].id}/credit", headers=headers).get_json()
    assert [(r["kind"], r["points"], r["in_force"]) for r in credit["records"]] == [("inspection", "-2.50", True)]
    assert {s["code"] for s in credit["policy_support"]} == {"recommendation", "fee_approval", "subsidy"}
    other, other_headers = api_client("enterprise", org=world["other_enterprise"])
    assert other.get("/api/v1/inspections/findings", headers=other_headers).get_json()["items"] == []
    refused = other.get(f"/api/v1/enterprises/{world['enterprise'].id}/credit", headers=other_headers)
    assert refused.status_code == 404 and refused.get_json()["error"] == "not_found"


def test_the_timeline_shows_filing_contract_and_high_risk_records_with_source_and_date(app, world, login_as,
                                                                                      factory):
    """The records the filing, contract-review and high-risk processes write, each shown with
    its kind, title, source and date (the processes run for real)."""
    from app.engine.deploy import deploy
    from app.models import Contract, EnterpriseFiling, HighRiskListing, HumanTask
    from tests.contracts.conftest import BPMN, contract_form
    from tests.contracts.test_review_rounds import ALL_ITEMS
    from tests.filing.conftest import filing_form
    for key in ("filing", "contract_review", "high_risk_escalation"):
        deploy(key, (BPMN / f"{key}.bpmn").read_text(encoding="utf-8"))

    def task_of(instance_id, spec_id):
        return db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                            HumanTask.spec_id == spec_id, HumanTask.status == "open"))

    def done(client, task, **data):
        response = client.post(f"/tasks/{task.id}", data={"action": "complete", **data},
                               content_type="multipart/form-data")
        assert db.session.get(HumanTask, task.id).status == "completed", response.get_data(as_text=True)[-1500:]

    enterprise = world["enterprise"]
    own = login_as("enterprise", org=enterprise)
    center = login_as("housing_center")
    # Filing on the center's demand, accepted.
    center.post("/filing/demands/new", data={"enterprise_id": enterprise.id, "deadline": "2026-10-09",
                                             "finding": "街道巡查发现该企业在世纪华庭提供物业服务"})
    filing = db.session.scalar(db.select(EnterpriseFiling))
    own.post(f"/tasks/{task_of(filing.instance_id, 'submit_on_demand').id}",
             data=filing_form(factory, response="file"), content_type="multipart/form-data")
    done(center, task_of(filing.instance_id, "review"), decision="accept")
    # The community's contract, filed in the first round.
    assert own.post("/contracts/new", data=contract_form(world["community"], signed_on="2026-09-01",
                                                         starts_on="2026-09-01", ends_on="2029-08-31"),
                    content_type="multipart/form-data").status_code == 302
    contract = db.session.scalar(db.select(Contract))
    done(center, task_of(contract.instance_id, "review"), decision="accept", checklist=ALL_ITEMS, comment="准予备案")
    # Listed as high-risk: proposed by the center, approved by the bureau.
    center.post("/high-risk/propose", data={"enterprise_id": enterprise.id})
    listing = db.session.scalar(db.select(HighRiskListing))
    done(center, task_of(listing.instance_id, "propose"), reason="服务质量投诉集中", evidence="12345 工单 15 件")
    done(login_as("housing_bureau"), task_of(listing.instance_id, "review"), decision="approve", comment="同意列入")

    page = center.get(f"/credit/{enterprise.id}").get_data(as_text=True)
    expected = {"filing": ("备案", "完成企业备案", "住保中心", "良好"),
                "contract": ("合同", "世纪华庭物业服务合同完成备案", "住保中心", "良好"),
                "high_risk": ("高风险", "吉首市乾元物业服务有限公司 被列入高风险管控名单", "住建局", "不良")}
    rows = db.session.scalars(db.select(CreditRecord).where(CreditRecord.enterprise_id == enterprise.id)
                              .order_by(CreditRecord.id)).all()
    assert [r.kind for r in rows] == ["filing", "contract", "high_risk"]
    for row in rows:
        item = page.split(f'data-record="{row.id}">')[1].split("</li>")[0]
        text = " ".join(re.sub(r"<[^>]+>", " ", item).split())
        kind, title, source, judgement = expected[row.kind]
        assert f"{judgement} {kind} {title}" in text, text
        recorded = row.recorded_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        assert f"{recorded} · {source}" in text, text  # the date and the source of each record
    assert own.get(f"/credit/{enterprise.id}").get_data(as_text=True).count("data-record=") == 3
    assert _supports(page) == {"recommendation": "no", "fee_approval": "no", "subsidy": "no"}  # listed: none
