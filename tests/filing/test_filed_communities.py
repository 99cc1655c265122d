"""The communities a filing lists, each with its contract scan: ones the system knows are
picked from the city's list, others are named with their address. The review shows where
each stands; on acceptance a known community no enterprise serves is recorded as the
filer's, and one another enterprise serves is left with it (a filing changes no
enterprise's communities, policy 三(五)). Bad rows are refused at the row, nothing kept."""
import io

import pytest

from app.extensions import db
from app.models import Attachment, Community, EnterpriseFiling, Notification
from tests.filing.conftest import community_row, filing_form, open_task
from tests.html_tables import table_rows


@pytest.fixture
def city(app, processes, factory):
    street = factory.street_office("乾州街道")
    filer = factory.enterprise(name="乾元物业")
    rival = factory.enterprise(name="峒河物业")
    return {"filer": filer, "rival": rival,
            "free": factory.community(street_office=street, name="世纪华庭"),
            "rivals": factory.community(enterprise=rival, street_office=street, name="峒河湾"),
            "own": factory.community(enterprise=filer, street_office=street, name="乾州新城"),
            "unlisted": factory.community(enterprise=filer, street_office=street, name="民族花园")}


def rows(city) -> dict:
    return {**community_row(0, city["free"], scan="世纪华庭合同.pdf"),
            **community_row(1, city["rivals"], scan="峒河湾合同.pdf"),
            **community_row(2, city["own"], scan="乾州新城合同.pdf"),
            **community_row(3, name="武陵新苑", address="吉首市武陵东路 6 号", scan="武陵新苑合同.pdf")}


def submit(client, task, factory, **rows):
    """The filing form with these community rows (None: the field is not sent)."""
    data = {k: v for k, v in filing_form(factory).items() if not k.startswith("communities-")}
    data.update({k: v for k, v in rows.items() if v is not None})
    return client.post(f"/tasks/{task.id}", data=data, content_type="multipart/form-data")


def start(login_as, city):
    enterprise = login_as("enterprise", org=city["filer"])
    assert enterprise.post("/filing/start").status_code == 302
    filing = db.session.scalar(db.select(EnterpriseFiling))
    return enterprise, filing, open_task(filing.instance_id, "submit")


def test_bad_community_rows_are_refused_at_the_row_and_nothing_is_kept(city, factory, login_as):
    enterprise, filing, task = start(login_as, city)
    page = enterprise.get(f"/tasks/{task.id}").get_data(as_text=True)
    for community in ("世纪华庭（乾州街道）", "峒河湾（乾州街道）", "— 其他小区（填写名称和地址）—"):
        assert community in page
    assert 'name="communities-1-community_id"' in page  # an empty row below the first

    cases = [
        ({**community_row(0, name="", address="吉首市某路 1 号")}, "communities-0-name", "请选择小区，或填写系统中没有的小区名称"),
        ({**community_row(0, name="武陵新苑", address="")}, "communities-0-address", "请填写该小区的地址"),
        ({**community_row(0, city["free"], starts="2026-01-01", ends="2025-12-31")}, "communities-0-contract_ends",
         "合同终止日期须晚于起始日期"),
        ({**community_row(0, city["free"], scan=None)}, "communities-0-contract_scan", "请上传该小区的物业服务合同扫描件"),
        ({**community_row(0, city["free"]), "communities-0-contract_scan": (io.BytesIO(b"PK\x03\x04 docx"), "合同.docx")},
         "communities-0-contract_scan", "只接受 PDF、JPG、PNG 文件"),
        ({**community_row(0, city["free"]), **community_row(1, city["free"])}, "communities", "第 2 行与第 1 行是同一个小区"),
        ({"communities-0-community_id": "0"}, "communities", "请至少填写一个在管小区"),
        ({**community_row(0), "communities-0-community_id": "999999"}, "communities-0-community_id", "请从列表中选择小区"),
    ]
    for data, field, message in cases:
        response = submit(enterprise, task, factory, **data)
        text = response.get_data(as_text=True)
        assert response.status_code == 200 and f'data-field-error="{field}"' in text and message in text, field
    db.session.expire_all()
    assert filing.rounds == 0 and filing.details == {} and open_task(filing.instance_id).id == task.id
    assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0

    # Both rows filled: a saved draft comes back with them and two more empty rows.
    draft = {**community_row(0, city["free"], scan=None), **community_row(1, name="武陵新苑", address="武陵东路 6 号",
                                                                          scan=None), "action": "draft"}
    assert enterprise.post(f"/tasks/{task.id}", data={k: v for k, v in draft.items() if v is not None}
                           ).status_code == 302
    page = enterprise.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'<option selected value="{city["free"].id}">' in page and 'value="武陵新苑"' in page
    assert 'name="communities-1-contract_ends" type="date" value="2026-12-31"' in page
    assert 'name="communities-3-community_id"' in page and 'name="communities-4-community_id"' not in page


def test_review_shows_each_community_and_acceptance_links_only_the_free_ones(city, factory, login_as):
    enterprise, filing, task = start(login_as, city)
    assert submit(enterprise, task, factory, **rows(city)).status_code == 302
    center = login_as("housing_center")
    review = open_task(filing.instance_id, "review")
    page = center.get(f"/tasks/{review.id}").get_data(as_text=True)
    table = table_rows(page, "filing-communities")
    assert [(r[0], r[3], r[4]) for r in table[1:]] == [
        ("世纪华庭", "世纪华庭合同.pdf", "尚无服务企业：准予备案后登记为本企业服务"),
        ("峒河湾", "峒河湾合同.pdf", "系统中登记由其他企业服务：备案不变更其服务企业（峒河物业）"),
        ("乾州新城", "乾州新城合同.pdf", "系统中已登记为本企业服务"),
        ("武陵新苑", "武陵新苑合同.pdf", "系统中尚无该小区")]
    assert table[4][1] == "吉首市武陵东路 6 号" and table[1][2] == "2024-01-01 — 2026-12-31"
    assert "系统登记由本企业服务、但未列入本次备案的小区：民族花园" in page

    # A supplement round: the rows come back as filed; scans not uploaded again are kept.
    assert center.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "return",
                                                    "supplement_items": ["communities"],
                                                    "comment": "请补充民族花园的合同"}).status_code == 302
    again = open_task(filing.instance_id, "submit")
    form = enterprise.get(f"/tasks/{again.id}").get_data(as_text=True)
    assert f'<option selected value="{city["free"].id}">' in form and 'value="武陵新苑"' in form
    assert 'name="communities-5-community_id"' in form and 'name="communities-6-community_id"' not in form
    kept = {**rows(city), **{f"communities-{i}-contract_scan": None for i in range(4)},
            **community_row(4, city["unlisted"], scan="民族花园合同.pdf")}
    assert submit(enterprise, again, factory, **kept).status_code == 302
    db.session.expire_all()
    scans = [r["contract_scan"] for r in filing.details["communities"]]
    assert len(scans) == 5 and all(scans) and len(set(scans)) == 5

    review = open_task(filing.instance_id, "review")
    assert center.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "accept"}).status_code == 302
    db.session.expire_all()
    assert {c.name: c.enterprise_id for c in db.session.scalars(db.select(Community))} == {
        "世纪华庭": city["filer"].id, "峒河湾": city["rival"].id, "乾州新城": city["filer"].id,
        "民族花园": city["filer"].id}
    assert [r["outcome"] for r in filing.details["communities"]] == ["linked", "other", "already", "unknown",
                                                                      "already"]
    word = db.session.scalar(db.select(Notification).where(Notification.user_id == enterprise.user.id,
                                                           Notification.title == "贵企业已完成备案"))
    assert "峒河湾" in word.body and "世纪华庭" not in word.body
    page = center.get(f"/enterprises/{city['filer'].id}").get_data(as_text=True)
    assert "世纪华庭" in page.split("服务小区")[1].split("备案")[0]
    after = center.get(f"/tasks/{review.id}").get_data(as_text=True)
    assert [r[4] for r in table_rows(after, "filing-communities")[1:3]] == [
        "已登记为本企业服务", "系统中登记由其他企业服务：备案不变更其服务企业（峒河物业）"]
