"""The model texts: the housing center drafts a version with numbered clauses tagged with
the review checklist, the justice bureau countersigns it (never the drafter), which
publishes it and retires the old one. Filed contracts ending within 90 days appear on the
center's dashboard and get one renewal reminder."""
from datetime import datetime


from app.extensions import db
from app.models import Contract, ContractTemplate, Notification, UserRole
from tests.contracts.conftest import SHANGHAI, act, contract_form, open_task, pdf_text

ALL_ITEMS = ["scope", "standards", "fee", "rights", "term", "termination", "liability", "escrow"]


def template_data(clauses, **changes) -> dict:
    data = {"kind": "regular", "title": "物业服务合同（示范文本）2026 修订", "note": "增加资金监管条款"}
    for i, (heading, text, item) in enumerate(clauses):
        data.update({f"clauses-{i}-heading": heading, f"clauses-{i}-text": text, f"clauses-{i}-checklist_item": item})
    data.update(changes)
    return data


FULL = [("服务事项和范围", "乙方提供公共区域清洁、绿化养护等服务。", "scope"), ("服务标准", "按二级标准提供服务。", "standards"),
        ("物业服务费用", "每月每平方米 1.00 元。", "fee"), ("双方权利义务", "甲方监督，乙方服务。", "rights"),
        ("合同期限", "三年。", "term"), ("解除和终止", "严重违约可以解除。", "termination"),
        ("违约责任", "按差额承担违约责任。", "liability"), ("资金监管", "物业服务费缴存至监管账户。", "escrow")]


def test_model_texts_are_drafted_by_the_center_and_countersigned_by_the_justice_bureau(app, processes, login_as):
    center = login_as("housing_center")
    justice = login_as("justice_bureau")
    first = db.session.scalar(db.select(ContractTemplate).where(ContractTemplate.kind == "regular"))
    assert first.status == "published" and len(first.clauses) == 11

    # Anyone logged in reads the model texts and downloads the PDF.
    enterprise = login_as("enterprise")
    assert "物业服务合同（示范文本）" in enterprise.get("/contracts/templates").get_data(as_text=True)
    pdf = enterprise.get(f"/contracts/templates/{first.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert enterprise.get("/contracts/templates/new").status_code == 403
    assert justice.get("/contracts/templates/new").status_code == 403

    form = center.get("/contracts/templates/new?kind=regular").get_data(as_text=True)
    assert "物业服务费资金监管" in form  # starts from the current version
    no_title = center.post("/contracts/templates/new", data=template_data(FULL, title=""))
    assert no_title.status_code == 422 and "请填写示范文本名称" in no_title.get_data(as_text=True)
    half = center.post("/contracts/templates/new", data=template_data(FULL + [("争议解决", "", "")]))
    assert half.status_code == 422 and "第 9 条须同时填写标题和条文" in half.get_data(as_text=True)
    grown = center.post("/contracts/templates/new", data={**template_data(FULL), "add_clause": "1"})
    assert 'name="clauses-8-heading"' in grown.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(ContractTemplate.id))) == 2

    # A draft missing a checklist item cannot be published.
    partial = center.post("/contracts/templates/new", data=template_data(FULL[:-1]))
    assert partial.status_code == 302
    draft = db.session.scalar(db.select(ContractTemplate).order_by(ContractTemplate.id.desc()))
    assert draft.version == 2 and draft.status == "draft" and [c.number for c in draft.clauses] == list(range(1, 8))
    refused = justice.post(f"/contracts/templates/{draft.id}/publish", follow_redirects=True)
    assert "缺少审查清单要求的必备条款：物业服务费资金监管" in refused.get_data(as_text=True)
    assert center.post(f"/contracts/templates/{draft.id}/edit", data=template_data(FULL)).status_code == 302
    db.session.expire_all()
    assert len(draft.clauses) == 8

    # The drafter never countersigns, even holding the justice bureau's role; others may not at all.
    drafter = draft.drafted_by
    drafter.role_rows.append(UserRole(role="justice_bureau"))
    db.session.commit()
    own = center.post(f"/contracts/templates/{draft.id}/publish", follow_redirects=True)
    assert own.status_code == 403
    assert enterprise.post(f"/contracts/templates/{draft.id}/publish").status_code == 403
    assert justice.post(f"/contracts/templates/{draft.id}/publish").status_code == 302
    db.session.expire_all()
    assert draft.status == "published" and first.status == "retired"
    edit = center.get(f"/contracts/templates/{draft.id}/edit", follow_redirects=True)
    assert "已发布的示范文本不能修改" in edit.get_data(as_text=True)
    text = pdf_text_of(enterprise.get(f"/contracts/templates/{draft.id}.pdf").data, app)
    assert "物业服务费缴存至监管账户" in text and "第8条" in text


def pdf_text_of(data: bytes, app) -> str:
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        return pdf_text(f.name)


def file_contract(world, login_as, community, ends_on, party_a="业主委员会"):
    enterprise = login_as("enterprise", org=world["enterprise"])
    center = login_as("housing_center")
    response = enterprise.post("/contracts/new", data=contract_form(community, party_a=party_a, starts_on="2025-06-01",
                                                                      ends_on=ends_on, signed_on="2025-05-20"),
                               content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    contract = db.session.scalar(db.select(Contract).order_by(Contract.id.desc()))
    act(center, open_task(contract.id, "review"), decision="accept", checklist=ALL_ITEMS)
    return db.session.get(Contract, contract.id)


def test_contracts_ending_within_90_days_are_on_the_dashboard_and_get_one_renewal_reminder(
        world, login_as, factory, clock):
    clock(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
    soon = file_contract(world, login_as, world["community"], "2026-05-20")
    later = file_contract(world, login_as, world["second"], "2026-12-31")
    assert soon.status == later.status == "filed"
    committee_user = factory.user("owners_committee", org=world["committee"])

    center = login_as("housing_center")
    home = center.get("/").get_data(as_text=True)
    card = home.split('data-testid="expiring-contracts"')[1]
    assert "世纪华庭" in card and "乾州新城" not in card and "2026-05-20 到期" in card
    assert "expiring-contracts" not in login_as("enterprise", org=world["enterprise"]).get("/").get_data(as_text=True)
    assert 'data-testid="count-expiring">1<' in center.get("/contracts/").get_data(as_text=True)
    assert "天后到期，请续签" in center.get(f"/contracts/{soon.id}").get_data(as_text=True)

    from workers.contracts import renewal_reminders
    assert renewal_reminders() == 1
    assert renewal_reminders() == 0  # once per contract
    notes = db.session.scalars(db.select(Notification).where(Notification.kind == "contract_renewal")).all()
    assert {n.user_id for n in notes} >= {committee_user.id} and all("世纪华庭" in n.title for n in notes)
    assert "已发续签提醒" in center.get("/").get_data(as_text=True)

    # A renewed contract filed for the community supersedes the old one and leaves the list.
    renewed = file_contract(world, login_as, world["community"], "2029-05-20")
    db.session.expire_all()
    assert renewed.status == "filed" and db.session.get(Contract, soon.id).status == "superseded"
    assert "世纪华庭" not in center.get("/").get_data(as_text=True).split('data-testid="expiring-contracts"')[1]
