"""Everything the inbox and case pages do, through the JSON API with the same checks: the
inbox's tabs, every filter, sort and pages; claim/unclaim; the case list's filters; the
diagram's states; documents up and down; substitutes."""
import io
from datetime import datetime, timedelta, timezone

import pytest

from app.engine import runtime
from app.engine.deploy import deploy
from app.extensions import db
from app.models import Attachment, HumanTask, Substitute
from tests.engine.conftest import BPMN_DIR

START = {"review_days": 5, "account_no": "0"}
SHANGHAI_10AM = datetime(2026, 12, 31, 2, 0, tzinfo=timezone.utc)  # 2026-12-31 10:00 in Jishou


def start(title, community):
    instance = runtime.start("demo_review", business_key=title, title=title, data=START,
                             orgs={"enterprise_id": community.enterprise_id, "community_id": community.id,
                                   "street_office_id": community.street_office_id})
    return db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id))


@pytest.fixture
def inbox(app, factory):
    deploy("demo_review", (BPMN_DIR / "demo_review.bpmn").read_text(encoding="utf-8"))
    enterprise = factory.enterprise(name="乾元物业")
    east, west = factory.street_office("乾州街道"), factory.street_office("峒河街道")
    huating = factory.community(enterprise=enterprise, street_office=east, name="世纪华庭")
    hewan = factory.community(enterprise=enterprise, street_office=west, name="峒河湾")
    a, b = start("乙 · 世纪华庭", huating), start("甲 · 峒河湾", hewan)
    c = start("丙 · 世纪华庭 复审", huating)
    runtime.complete_task(c.id, {"title": "材料", "amount": "10"}, None)
    review = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == c.instance_id,
                                                          HumanTask.status == "open"))
    a.due_at = SHANGHAI_10AM
    b.due_at = datetime.now(timezone.utc) + timedelta(hours=1)
    review.due_at = datetime.now(timezone.utc) + timedelta(days=60)
    db.session.commit()
    return {"a": a, "b": b, "c": c, "review": review, "enterprise": enterprise, "huating": huating, "west": west}


def ids(client, headers, **query) -> list[int]:
    response = client.get("/api/v1/tasks", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return [t["id"] for t in response.get_json()["items"]]


def refused(client, headers, **query) -> dict:
    response = client.get("/api/v1/tasks", headers=headers, query_string=query)
    assert response.status_code == 422, (query, response.status_code)
    return response.get_json()["fields"]


def test_every_task_filter(inbox, api_client):
    a, b, review = inbox["a"].id, inbox["b"].id, inbox["review"].id
    center, ch = api_client("housing_center")
    assert sorted(ids(center, ch, tab="all")) == sorted([a, b, review])
    assert ids(center, ch) == [review]  # tab=open: the center's own role
    assert ids(center, ch, tab="all", process="demo_review", sort="title") == [review, a, b]  # 丙 乙 甲
    assert ids(center, ch, tab="all", process="filing") == []
    assert ids(center, ch, tab="all", role="enterprise", sort="title") == [a, b]
    assert ids(center, ch, tab="all", task="审核材料") == [review]
    assert ids(center, ch, tab="all", text="峒河") == [b]
    assert sorted(ids(center, ch, tab="all", community_id=inbox["huating"].id)) == sorted([a, review])
    assert ids(center, ch, tab="all", street_office_id=inbox["west"].id) == [b]
    assert sorted(ids(center, ch, tab="all", enterprise_id=inbox["enterprise"].id)) == sorted([a, b, review])
    assert ids(center, ch, tab="all", enterprise_id=999999) == []
    assert ids(center, ch, tab="all", due="today") == [b]
    assert ids(center, ch, tab="all", sort="due") == [b, a, review]
    assert ids(center, ch, tab="all", sort="due", desc="1") == [review, a, b]
    body = center.get("/api/v1/tasks", headers=ch, query_string={"tab": "all", "task": "审核材料"}).get_json()
    task = body["items"][0]
    assert task["started_at"] == db.session.get(HumanTask, review).instance.started_at.isoformat()
    assert task["title"] == "丙 · 世纪华庭 复审" and body["total"] == 1

    ent, eh = api_client("enterprise", org=inbox["enterprise"])
    assert sorted(ids(ent, eh)) == sorted([a, b])
    assert ent.post(f"/api/v1/tasks/{a}/claim", headers=eh).get_json()["claimed_by"] == ent.user.username
    assert ids(ent, eh, claimed="me") == [a] and ids(ent, eh, claimed="none") == [b]
    assert ids(ent, eh, tab="mine") == [a]
    assert ids(ent, eh, tab="done") == []
    assert ent.get("/api/v1/tasks", headers=eh, query_string={"tab": "all"}).status_code == 403


def test_due_before_takes_a_date_or_a_local_time(inbox, api_client):
    a = inbox["a"].id  # due 2026-12-31 10:00 Asia/Shanghai
    center, ch = api_client("housing_center")

    def due(value):
        return a in ids(center, ch, tab="all", due_before=value)

    assert due("2026-12-31") and not due("2026-12-30")  # a date: up to the end of that day
    assert due("2026-12-31T10:00") and not due("2026-12-31T09:59")  # no offset: Jishou time
    assert due("2026-12-31T02:00:00Z") and not due("2026-12-31T01:59:00+00:00")
    assert due("2026-12-31T10:00:00+08:00")
    for garbage in ("tomorrow", "2026-13-01", "31.12.2026"):
        assert "due_before" in refused(center, ch, due_before=garbage)


def test_garbage_filters_are_refused_with_the_field(inbox, api_client):
    center, ch = api_client("housing_center")
    for name, value in (("tab", "todo2"), ("claimed", "them"), ("due", "yesterday"), ("sort", "id; drop"),
                        ("desc", "maybe"), ("community_id", "x"), ("enterprise_id", "-1"), ("page", "0"),
                        ("per_page", "101"), ("per_page", "many")):
        assert name in refused(center, ch, **{"tab": "all", name: value}), (name, value)


def test_pages_with_the_total(inbox, api_client):
    for n in range(4):
        start(f"批量 {n}", inbox["huating"])
    center, ch = api_client("housing_center")
    first = center.get("/api/v1/tasks", headers=ch, query_string={"tab": "all", "per_page": 3, "sort": "title"})
    body = first.get_json()
    assert (body["total"], body["page"], body["per_page"], body["pages"], len(body["items"])) == (7, 1, 3, 3, 3)
    rest = [center.get("/api/v1/tasks", headers=ch, query_string={
        "tab": "all", "per_page": 3, "sort": "title", "page": p}).get_json()["items"] for p in (2, 3, 4)]
    assert [len(r) for r in rest] == [3, 1, 0]
    seen = [t["id"] for t in body["items"] + rest[0] + rest[1]]
    assert len(set(seen)) == 7
    assert center.get("/api/v1/tasks", headers=ch, query_string={"per_page": 100}).status_code == 200


def test_unclaim_through_the_api(inbox, api_client):
    a = inbox["a"].id
    ent, eh = api_client("enterprise", org=inbox["enterprise"])
    colleague, colh = api_client("enterprise", org=inbox["enterprise"])
    ent.post(f"/api/v1/tasks/{a}/claim", headers=eh)
    other = colleague.post(f"/api/v1/tasks/{a}/unclaim", headers=colh)
    assert other.status_code == 409 and other.get_json()["message"] == "只能退回自己签收的任务。"
    assert db.session.get(HumanTask, a).claimed_by_id == ent.user.id
    stranger, sh = api_client("enterprise")
    assert stranger.post(f"/api/v1/tasks/{a}/unclaim", headers=sh).status_code == 404
    back = ent.post(f"/api/v1/tasks/{a}/unclaim", headers=eh)
    assert back.status_code == 200 and back.get_json()["claimed_by"] is None
    assert db.session.get(HumanTask, a).claimed_by_id is None
    assert sorted(ids(colleague, colh, claimed="none")) == sorted([a, inbox["b"].id])


def test_case_list_filters_and_diagram_through_the_api(inbox, api_client):
    broken = inbox["b"].instance_id  # submitted with a bad amount and approved: the fee script fails
    runtime.complete_task(inbox["b"].id, {"title": "t", "amount": "not-a-number"}, None)
    runtime.complete_task(db.session.scalar(db.select(HumanTask.id).where(
        HumanTask.instance_id == broken, HumanTask.status == "open")), {"decision": "approve"}, None)
    center, ch = api_client("housing_center")

    def listed(**query):
        response = center.get("/api/v1/instances", headers=ch, query_string=query)
        assert response.status_code == 200, response.get_json()
        return [i["id"] for i in response.get_json()["items"]]

    assert listed(incident=1) == [broken]
    incident = center.get("/api/v1/instances", headers=ch, query_string={"incident": 1}).get_json()
    assert incident["total"] == 1 and "InvalidOperation" in incident["items"][0]["incident"]
    assert listed(overdue=1) == []
    late = db.session.get(HumanTask, inbox["a"].id)
    late.due_at = datetime.now(timezone.utc) - timedelta(minutes=5)
    db.session.commit()
    assert listed(overdue=1) == [inbox["a"].instance_id]
    assert listed(status="error") == [broken] and listed(overdue=1, incident=1) == []
    page = center.get("/api/v1/instances", headers=ch, query_string={"per_page": 2}).get_json()
    assert page["total"] == 3 and len(page["items"]) == 2
    for name, value in (("status", "broken"), ("incident", "yes"), ("overdue", "2"), ("per_page", "0")):
        response = center.get("/api/v1/instances", headers=ch, query_string={name: value})
        assert response.status_code == 422 and name in response.get_json()["fields"]

    waiting = inbox["c"].instance_id  # at the review
    diagram = center.get(f"/api/v1/instances/{waiting}/diagram", headers=ch).get_json()
    assert "<bpmn:userTask id=\"review\"" in diagram["xml"]
    assert "review" in diagram["states"]["active"] and "submit" in diagram["states"]["completed"]
    assert "review_deadline" in diagram["states"]["waiting"]
    stranger, sh = api_client("enterprise")
    assert stranger.get(f"/api/v1/instances/{waiting}/diagram", headers=sh).status_code == 404
    assert stranger.get("/api/v1/instances", headers=sh, query_string={"incident": 1}).get_json()["items"] == []


def test_documents_up_and_down_through_the_api_with_the_pages_checks(inbox, api_client, app):
    task = inbox["a"]
    ent, eh = api_client("enterprise", org=inbox["enterprise"])
    url = f"/api/v1/tasks/{task.id}/complete"

    def upload(name, data):
        return ent.post(url, headers=eh, content_type="multipart/form-data",
                        data={"title": "年度材料", "amount": "1200.00", "document": (io.BytesIO(data), name)})

    wrong = upload("材料.pdf", b"MZ\x90\x00 not a pdf")
    assert wrong.status_code == 422 and wrong.get_json()["fields"]["document"] == "只接受 PDF、JPG、PNG、DOCX、XLSX 文件。"
    big = upload("大文件.pdf", b"%PDF" + b"0" * (10 * 1024 * 1024))
    assert big.status_code == 422 and big.get_json()["fields"]["document"] == "附件不能超过 10 MB。"
    bad_field = ent.post(url, headers=eh, content_type="multipart/form-data", data={"title": "", "amount": "-1"})
    assert bad_field.status_code == 422 and {"title", "amount"} <= set(bad_field.get_json()["fields"])
    assert db.session.get(HumanTask, task.id).status == "open"
    assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0

    done = upload("../../etc/年度材料.pdf", b"%PDF-1.4 api")
    assert done.status_code == 200, done.get_json()
    [document] = done.get_json()["attachments"]
    assert document["filename"] == "年度材料.pdf" and document["size"] == len(b"%PDF-1.4 api")
    assert db.session.get(HumanTask, task.id).status == "completed"

    download = ent.get(document["url"], headers=eh)
    assert download.status_code == 200 and download.data == b"%PDF-1.4 api"
    assert download.mimetype == "application/pdf" and "attachment" in download.headers["Content-Disposition"]
    center, ch = api_client("housing_center")
    assert center.get(document["url"], headers=ch).data == b"%PDF-1.4 api"
    shown = center.get(f"/api/v1/instances/{task.instance_id}", headers=ch).get_json()
    assert [d["id"] for d in shown["attachments"]] == [document["id"]]
    stranger, sh = api_client("enterprise")
    assert stranger.get(document["url"], headers=sh).status_code == 404
    assert stranger.get("/api/v1/attachments/999999", headers=sh).status_code == 404
    assert ent.get(document["url"]).status_code == 401  # a token, not a session


def test_substitutes_through_the_api(inbox, api_client, factory):
    me, mh = api_client("housing_center")
    cover = factory.user("street_office", username="cover")
    assert me.get("/api/v1/substitutes", headers=mh).get_json()["items"] == []
    for body, field in (({"username": "cover", "starts_on": "2026-02-01", "ends_on": "2026-01-01"}, "ends_on"),
                        ({"username": me.user.username, "starts_on": "2026-01-01", "ends_on": "2026-01-02"},
                         "username"),
                        ({"username": "nobody", "starts_on": "2026-01-01", "ends_on": "2026-01-02"}, "username"),
                        ({"username": "cover", "starts_on": "soon", "ends_on": "2026-01-02"}, "starts_on"),
                        ({"username": "cover"}, "ends_on")):
        response = me.post("/api/v1/substitutes", headers=mh, json=body)
        assert response.status_code == 422 and field in response.get_json()["fields"], (body, response.get_json())
    assert db.session.scalar(db.select(db.func.count(Substitute.id))) == 0

    created = me.post("/api/v1/substitutes", headers=mh,
                      json={"username": "cover", "starts_on": "2026-01-01", "ends_on": "2099-12-31"})
    assert created.status_code == 201
    row = created.get_json()
    assert (row["substitute"], row["starts_on"], row["ends_on"]) == ("cover", "2026-01-01", "2099-12-31")
    assert [r["id"] for r in me.get("/api/v1/substitutes", headers=mh).get_json()["items"]] == [row["id"]]
    # the substitute now sees the center's review, through the API as well
    from app.services import users
    token = users.issue_token(cover, "test")
    assert ids(me, {"Authorization": f"Bearer {token}"}) == [inbox["review"].id]

    other, oh = api_client("housing_center")
    assert other.get("/api/v1/substitutes", headers=oh).get_json()["items"] == []
    assert other.delete(f"/api/v1/substitutes/{row['id']}", headers=oh).status_code == 404
    assert db.session.get(Substitute, row["id"]) is not None
    assert me.delete(f"/api/v1/substitutes/{row['id']}", headers=mh).get_json() == {"deleted": row["id"]}
    assert db.session.get(Substitute, row["id"]) is None
