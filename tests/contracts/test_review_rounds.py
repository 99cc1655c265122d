"""A contract filed by its enterprise goes through three review rounds with per-clause
revision opinions to acceptance: opinions are added on the round under review, answered by
the enterprise (accept with a revised upload, or argue), marked resolved or not by the next
review (an unresolved one is carried into the new round), and every round stays on record."""

import pytest

from app.extensions import db
from app.models import Attachment, Contract, ContractRound, CreditRecord, RevisionOpinion
from app.services.attachments import path_of
from tests.contracts.conftest import act, contract_form, open_task, pdf_file, pdf_text

pytestmark = pytest.mark.usefixtures("clock")


def opinion(client, contract_id, **data):
    return client.post(f"/contracts/{contract_id}/opinions",
                       data={f"opinion-{k}": v for k, v in data.items()}, follow_redirects=True)


def answer(client, contract_id, opinion_row, value, text=""):
    prefix = f"o{opinion_row.id}"
    return client.post(f"/contracts/{contract_id}/opinions/{opinion_row.id}/answer",
                       data={f"{prefix}-answer": value, f"{prefix}-answer_text": text}, follow_redirects=True)


def resolve(client, contract_id, opinion_row, resolved: bool):
    return client.post(f"/contracts/{contract_id}/opinions/{opinion_row.id}/resolve",
                       data={f"r{opinion_row.id}-resolved": "yes" if resolved else "no"}, follow_redirects=True)


def opinions_of(contract_id, number):
    db.session.expire_all()
    row = db.session.scalar(db.select(ContractRound).where(ContractRound.contract_id == contract_id,
                                                           ContractRound.number == number))
    return list(row.opinions)


ALL_ITEMS = ["scope", "standards", "fee", "rights", "term", "termination", "liability", "escrow"]


def submit(enterprise, community, **changes):
    response = enterprise.post("/contracts/new", data=contract_form(community, **changes),
                               content_type="multipart/form-data")
    return response


def count(model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_bad_submissions_are_refused_at_the_field_and_change_nothing(world, login_as):
    enterprise = login_as("enterprise", org=world["enterprise"])
    cases = [
        ({"community_id": world["far"].id}, "community_id", "贵企业不是该小区的物业服务企业"),
        ({"starts_on": "2026-03-01", "ends_on": "2026-02-01"}, "ends_on", "合同终止日期须晚于起始日期"),
        ({"starts_on": "2026-03-01", "ends_on": "2026-03-01"}, "ends_on", "合同终止日期须晚于起始日期"),
        ({"fee_per_sqm": "0"}, "fee_per_sqm", "物业费须为大于 0 的金额"),
        ({"fee_per_sqm": "-1.20"}, "fee_per_sqm", "物业费须为大于 0 的金额"),
        ({"fee_per_sqm": "一元二角"}, "fee_per_sqm", "物业费须为大于 0 的金额"),
        ({"fee_per_sqm": "1.205"}, "fee_per_sqm", "物业费须为大于 0 的金额"),
        ({"fee_per_sqm": "1200"}, "fee_per_sqm", "请核对计费单位"),
        ({"contract_pdf": pdf_file("合同.docx", b"PK\x03\x04 word")}, "contract_pdf", "只接受 PDF 格式的合同文件"),
        ({"contract_pdf": pdf_file("伪装.pdf", b"just text, not a pdf")}, "contract_pdf", "只接受 PDF 格式的合同文件"),
        ({"contract_pdf": None}, "contract_pdf", "请上传已签订合同的 PDF 文件"),
        ({"signed_on": "2026-03-05"}, "signed_on", "签订日期不能晚于今天"),
        ({"kind": "preliminary", "tender_ref": ""}, "tender_ref", "须填写中标通知书编号"),
        ({"party_a": ""}, "party_a", "请填写甲方名称"),
    ]
    for changes, field, message in cases:
        response = submit(enterprise, world["community"], **changes)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, (changes, response.status_code)
        assert f'data-field-error="{field}"' in page and message in page, (changes, field)
    assert count(Contract) == 0 and count(Attachment) == 0 and count(ContractRound) == 0

    # The wrong roles may not file at all.
    for role in ("street_office", "owners_committee", "bank"):
        assert login_as(role).post("/contracts/new", data=contract_form(world["community"]),
                                   content_type="multipart/form-data").status_code == 403
    assert count(Contract) == 0


def test_three_review_rounds_with_per_clause_opinions_to_acceptance(app, world, login_as):
    enterprise = login_as("enterprise", org=world["enterprise"])
    other = login_as("enterprise", org=world["other_enterprise"])
    center = login_as("housing_center")

    response = submit(enterprise, world["community"], note="按 2025 版示范文本签订")
    assert response.status_code == 302
    contract = db.session.scalar(db.select(Contract))
    cid = contract.id
    assert contract.status == "submitted" and contract.rounds == 1 and contract.template.version == 1
    assert submit(enterprise, world["community"]).status_code == 409  # a second case for the community …
    assert count(Contract) == 1  # … is refused: one open case per community

    # Who sees it: the enterprise, the community's street office and owners' committee, the reviewers.
    assert other.get(f"/contracts/{cid}").status_code == 404
    assert login_as("street_office", org=world["other_street"]).get(f"/contracts/{cid}").status_code == 404
    assert login_as("street_office", org=world["street"]).get(f"/contracts/{cid}").status_code == 200
    assert login_as("owners_committee", org=world["committee"]).get(f"/contracts/{cid}").status_code == 200
    assert login_as("justice_bureau").get(f"/contracts/{cid}").status_code == 200
    assert "世纪华庭" not in other.get("/contracts/").get_data(as_text=True)

    # ---- round 1: two opinions, returned for revision
    review = open_task(cid, "review")
    assert review.role == "housing_center" and review.due_at is not None
    assert enterprise.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "accept"}).status_code in (403, 404)
    assert opinion(enterprise, cid, clause_no=5, action="amend", text="x").status_code == 403
    no_text = opinion(center, cid, clause_no=5, action="amend", text="  ", proposed_wording="每月每平方米 1.00 元")
    assert no_text.status_code == 422 and "请填写删改意见的内容" in no_text.get_data(as_text=True)
    no_wording = opinion(center, cid, clause_no=5, action="amend", text="收费标准高于备案的服务等级")
    assert "修改或增加条款时须给出建议条文" in no_wording.get_data(as_text=True)
    whole = opinion(center, cid, clause_no=0, action="delete", text="删除")
    assert "删除或修改须指明条款" in whole.get_data(as_text=True)
    assert count(RevisionOpinion) == 0

    page = center.get(f"/tasks/{review.id}").get_data(as_text=True)
    assert 'data-testid="review-panel"' in page and "第 4 条 物业服务费用及计费依据" in page
    opinion(center, cid, clause_no=4, action="amend", text="收费标准高于二级服务等级的指导价",
            proposed_wording="物业服务费按每月每平方米 1.00 元计收。")
    opinion(center, cid, clause_no=0, action="add", text="缺少物业服务费资金监管条款",
            proposed_wording="业主缴纳的物业服务费缴存至市住保中心监管账户。")
    stray = opinion(center, cid, clause_no=11, action="delete", text="临时意见")
    assert stray.status_code == 200
    stray_row = opinions_of(cid, 1)[-1]
    assert center.post(f"/contracts/{cid}/opinions/{stray_row.id}/delete", follow_redirects=True).status_code == 200
    assert [o.seq for o in opinions_of(cid, 1)] == [1, 2]

    accepted_early = act(center, review, decision="accept", checklist=ALL_ITEMS)
    assert "本轮已提出删改意见，不能准予备案" in accepted_early.get_data(as_text=True)
    act(center, review, decision="revise", comment="请按意见修改后重新签订")
    db.session.expire_all()
    contract = db.session.get(Contract, cid)
    assert contract.status == "returned" and contract.deadline.isoformat() == "2026-03-16"  # 10 working days
    letter = contract.round_rows[0].opinions_letter
    text = pdf_text(path_of(letter))
    assert "删改意见书" in text and "收费标准高于二级服务等级的指导价" in text and "2026 年 3 月 16 日" in text

    # ---- the enterprise answers round 1
    submit_task = open_task(cid, "submit")
    assert submit_task.role == "enterprise" and submit_task.due_at is not None
    first, second = opinions_of(cid, 1)
    assert answer(other, cid, first, "accept").status_code == 404  # another enterprise's contract
    assert answer(center, cid, first, "accept").status_code == 403  # the reviewer does not answer
    unanswered = act(enterprise, submit_task, **contract_form(world["community"], contract_pdf=pdf_file("修订.pdf")))
    assert "请先逐条答复删改意见" in unanswered.get_data(as_text=True)
    argued_silently = answer(enterprise, cid, second, "argue", "  ")
    assert argued_silently.status_code == 422 and "不采纳时须说明理由" in argued_silently.get_data(as_text=True)
    answer(enterprise, cid, first, "accept", "已改为 1.00 元")
    answer(enterprise, cid, second, "argue", "资金监管已在第 5 条约定，无需另设条款")
    no_upload = act(enterprise, submit_task, **contract_form(world["community"], contract_pdf=None))
    assert "请上传修改后重新签订的合同 PDF" in no_upload.get_data(as_text=True)
    not_pdf = act(enterprise, submit_task, **contract_form(world["community"], contract_pdf=pdf_file("修订.png", b"\x89PNG\r\n\x1a\n")))
    assert "只接受 PDF 格式的合同文件" in not_pdf.get_data(as_text=True)
    bad_fee = act(enterprise, submit_task, **contract_form(world["community"], fee_per_sqm="0",
                                                           contract_pdf=pdf_file("修订.pdf")))
    assert "物业费须为大于 0 的金额" in bad_fee.get_data(as_text=True)
    assert db.session.get(Contract, cid).rounds == 1
    act(enterprise, submit_task, **contract_form(world["community"], fee_per_sqm="1.00", contract_pdf=pdf_file("修订.pdf")))
    db.session.expire_all()
    contract = db.session.get(Contract, cid)
    assert contract.rounds == 2 and contract.status == "submitted" and str(contract.fee_per_sqm) == "1.00"

    # ---- round 2: one resolved, one not (carried), one new opinion
    review = open_task(cid, "review")
    unresolved = act(center, review, decision="revise")
    assert "请先逐条确认上一轮删改意见是否已落实" in unresolved.get_data(as_text=True)
    page = center.get(f"/tasks/{review.id}").get_data(as_text=True)
    assert 'data-testid="prior-opinions"' in page and "资金监管已在第 5 条约定" in page
    resolve(center, cid, first, True)
    resolve(center, cid, second, False)
    opinion(center, cid, clause_no=10, action="amend", text="违约责任过轻",
            proposed_wording="乙方未达到约定服务标准的，按差额的两倍承担违约责任。")
    act(center, review, decision="revise")
    round2 = opinions_of(cid, 2)
    assert [(o.seq, o.clause_no, bool(o.carried_from_id)) for o in round2] == [(1, 10, False), (2, 0, True)]
    assert round2[1].carried_from_id == second.id

    # Answering an opinion of an earlier round is refused and changes nothing.
    late = answer(enterprise, cid, second, "accept", "改为采纳")
    assert late.status_code == 422 and "只能答复本轮的删改意见" in late.get_data(as_text=True)
    assert db.session.get(RevisionOpinion, second.id).answer == "argue"

    for row in round2:
        answer(enterprise, cid, row, "accept")
    act(enterprise, open_task(cid, "submit"), **contract_form(world["community"], fee_per_sqm="1.00",
                                                              contract_pdf=pdf_file("第三稿.pdf")))

    # ---- round 3: everything resolved, the checklist complete: filed
    review = open_task(cid, "review")
    for row in opinions_of(cid, 2):
        resolve(center, cid, row, True)
    incomplete = act(center, review, decision="accept", checklist=ALL_ITEMS[:-1])
    assert "准予备案须具备全部必备条款，缺少：物业服务费资金监管" in incomplete.get_data(as_text=True)
    no_reason = act(center, review, decision="reject")
    assert "不予备案须说明理由" in no_reason.get_data(as_text=True)
    act(center, review, decision="accept", checklist=ALL_ITEMS, comment="准予备案")
    db.session.expire_all()
    contract = db.session.get(Contract, cid)
    assert contract.status == "filed" and contract.filed_round == 3 and contract.active_key is None
    assert [r.decision for r in contract.round_rows] == ["revise", "revise", "accept"]
    certificate = pdf_text(path_of(contract.certificate))
    assert "备案回执" in certificate and "世纪华庭" in certificate and "第 3 轮" in certificate
    credit = db.session.scalar(db.select(CreditRecord).where(CreditRecord.enterprise_id == world["enterprise"].id))
    assert credit.positive and credit.kind == "contract"

    # Every round is kept and shown; round n beside round n+1 says which opinions were resolved.
    page = enterprise.get(f"/contracts/{cid}").get_data(as_text=True)
    for n in (1, 2, 3):
        assert f'data-testid="round-{n}"' in page
    assert 'data-testid="filed-version"' in page and "资金监管已在第 5 条约定" in page
    compare = enterprise.get(f"/contracts/{cid}/compare/1").get_data(as_text=True)
    assert "1 条已落实，1 条未落实" in compare and "转为第 2 轮第 2 条" in compare
    assert "1.20" in compare and "1.00" in compare  # the fee changed between rounds
    assert "2 条已落实，0 条未落实" in enterprise.get(f"/contracts/{cid}/compare/2").get_data(as_text=True)
    assert other.get(f"/contracts/{cid}/compare/1").status_code == 404
    assert enterprise.get(f"/contracts/{cid}/compare/3").status_code == 404

    # After filing nothing is open for opinions or answers.
    closed = opinion(center, cid, clause_no=5, action="amend", text="再提意见", proposed_wording="x")
    assert closed.status_code == 409 and "不在审查环节" in closed.get_data(as_text=True)
