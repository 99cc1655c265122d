"""Way in (a): an enterprise signs up, files, is returned twice for supplements, and is accepted."""
import io
import os
import re

from app.extensions import db
from app.models import Attachment, CreditRecord, Enterprise, EnterpriseFiling, User
from app.services.demo import demo_uscc
from tests.conftest import PASSWORD
from tests.filing.conftest import filing_form, open_task

DOCX = b"PK\x03\x04\x14\x00\x06\x00word/document.xml"  # how a Word (or Excel) file starts


def field_error(response, name: str) -> str:
    found = re.search(rf'data-field-error="{re.escape(name)}">([^<]*)<', response.get_data(as_text=True))
    return found.group(1).strip() if found else ""


def stored_files(app) -> set[str]:
    folder = app.config["UPLOAD_FOLDER"]
    return set(os.listdir(folder)) if os.path.isdir(folder) else set()


def signup(client, **changes):
    data = {"name": "乾元物业服务有限公司", "uscc": demo_uscc(901), "contact_name": "彭丽",
            "contact_phone": "13907430001", "username": "qianyuan", "password": PASSWORD, "password2": PASSWORD}
    data.update(changes)
    return client.post("/signup", data=data)


def test_signup_refuses_bad_and_duplicate_codes_and_changes_nothing(client, factory):
    response = signup(client, uscc="91433101MA4L0000X0")
    assert response.status_code == 200 and "统一社会信用代码格式或校验位不正确" in response.get_data(as_text=True)
    existing = factory.enterprise()
    response = signup(client, uscc=existing.uscc)
    assert "该统一社会信用代码已登记" in response.get_data(as_text=True)
    factory.user("housing_center", username="taken")
    response = signup(client, username="taken")
    assert "用户名已存在" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Enterprise)) == 1
    assert db.session.scalar(db.select(User.id).where(User.username == "qianyuan")) is None


def test_enterprise_files_is_returned_twice_and_accepted(app, client, processes, factory, login_as):
    assert signup(client).status_code == 302
    assert client.post("/login", data={"username": "qianyuan", "password": PASSWORD}).status_code == 302
    enterprise = db.session.scalar(db.select(Enterprise).where(Enterprise.uscc == demo_uscc(901)))
    assert enterprise.filing_status == "unfiled"

    started = client.post("/filing/start")
    assert started.status_code == 302 and "/tasks/" in started.location
    filing = db.session.scalar(db.select(EnterpriseFiling).where(EnterpriseFiling.enterprise_id == enterprise.id))
    assert client.post("/filing/start").status_code == 302  # a second open filing is refused
    assert db.session.scalar(db.select(db.func.count()).select_from(EnterpriseFiling)) == 1

    task = open_task(filing.instance_id)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "营业执照扫描件" in page and "法定代表人身份证号" in page

    # Missing mandatory documents and a bad ID number: refused at the fields, nothing changes.
    bad = client.post(f"/tasks/{task.id}", data=filing_form(factory, licence_scan=None, legal_rep_id_number="123"),
                      content_type="multipart/form-data")
    text = bad.get_data(as_text=True)
    assert "身份证号码格式或校验位不正确" in text
    bad = client.post(f"/tasks/{task.id}", data=filing_form(factory, licence_scan=None),
                      content_type="multipart/form-data")
    assert "请上传营业执照扫描件" in bad.get_data(as_text=True)
    not_pdf = client.post(f"/tasks/{task.id}", content_type="multipart/form-data",
                          data=filing_form(factory, licence_scan=(io.BytesIO(b"MZ\x90"), "licence.exe")))
    assert "只接受 PDF" in not_pdf.get_data(as_text=True)
    # Scans are PDF or images, by content: a Word file is refused, named .docx or .pdf alike.
    for scan in ((io.BytesIO(DOCX), "营业执照.docx"), (io.BytesIO(DOCX), "营业执照.pdf")):
        refused = client.post(f"/tasks/{task.id}", content_type="multipart/form-data",
                              data=filing_form(factory, licence_scan=scan))
        assert refused.status_code == 200
        assert field_error(refused, "licence_scan") == "只接受 PDF、JPG、PNG 文件。", scan[1]
    # Half good, half bad (a good licence, a spreadsheet as the contract): refused at the
    # contract's field, and the good licence is not left behind on disk either.
    half = client.post(f"/tasks/{task.id}", content_type="multipart/form-data", data=filing_form(
        factory, **{"communities-0-contract_scan": (io.BytesIO(DOCX), "合同.xlsx")}))
    assert field_error(half, "communities-0-contract_scan") == "只接受 PDF、JPG、PNG 文件。"
    assert stored_files(app) == set() and db.session.scalar(db.select(db.func.count(Attachment.id))) == 0
    assert open_task(filing.instance_id).id == task.id

    # Another enterprise sees nothing of it and changes nothing.
    stranger = login_as("enterprise")
    assert stranger.get(f"/tasks/{task.id}").status_code == 404
    assert stranger.post(f"/tasks/{task.id}", data=filing_form(factory),
                         content_type="multipart/form-data").status_code == 404
    db.session.expire_all()
    assert (filing.status, filing.rounds, filing.details, filing.submitted_at) == ("drafting", 0, {}, None)
    assert open_task(filing.instance_id).id == task.id and stored_files(app) == set()

    assert client.post(f"/tasks/{task.id}", data=filing_form(factory),
                       content_type="multipart/form-data").status_code == 302
    center = login_as("housing_center")
    review = open_task(filing.instance_id, "review")
    assert review is not None and review.due_at is not None
    assert "乾元物业服务有限公司" in center.get("/inbox").get_data(as_text=True)

    for round_no, items in ((1, ["licence", "staff"]), (2, ["other"])):
        refused = center.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "return"})
        assert "退回补正时须列明需补正的材料" in refused.get_data(as_text=True)
        if "other" in items:
            refused = center.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "return",
                                                               "supplement_items": items})
            assert "选择“其他”时须在审核意见中说明" in refused.get_data(as_text=True)
        response = center.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "return",
                                                             "supplement_items": items,
                                                             "comment": f"第{round_no}轮：请补充"})
        assert response.status_code == 302
        db.session.expire_all()
        assert filing.status == "returned" and filing.rounds == round_no

        mine = client.get("/filing").get_data(as_text=True)
        assert "退回补正" in mine and f"第{round_no}轮：请补充" in mine
        if round_no == 1:
            assert "营业执照信息或扫描件" in mine and "从业人员及项目经理信息" in mine
        again = open_task(filing.instance_id, "submit")
        page = client.get(f"/tasks/{again.id}").get_data(as_text=True)
        assert 'value="吉首市乾州街道世纪大道 8 号"' in page  # the earlier submission is prefilled
        # Documents uploaded before need not be uploaded again.
        resubmit = filing_form(factory, licence_scan=None, staff_count=str(90 + round_no),
                               **{"communities-0-contract_scan": None})
        assert client.post(f"/tasks/{again.id}", data=resubmit, content_type="multipart/form-data").status_code == 302
        review = open_task(filing.instance_id, "review")

    response = center.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "accept"})
    assert response.status_code == 302
    db.session.expire_all()
    assert filing.status == "accepted" and filing.rounds == 3 and filing.details["staff_count"] == 92
    assert filing.details["licence_scan"] and filing.details["communities"][0]["contract_scan"]
    assert enterprise.filing_status == "filed" and enterprise.legal_rep.name == "向东"
    assert db.session.scalar(db.select(CreditRecord.title).where(CreditRecord.enterprise_id == enterprise.id)) == \
        "完成企业备案"
    assert "已备案" in client.get("/filing").get_data(as_text=True)
    assert "已备案" in center.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)
    # A filed enterprise cannot start another filing.
    client.post("/filing/start")
    assert db.session.scalar(db.select(db.func.count()).select_from(EnterpriseFiling)) == 1
