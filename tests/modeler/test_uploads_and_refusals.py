"""Imports of .bpmn/.dmn files: hostile and malformed XML is refused with a clear message at
the field and changes nothing; only process managers and administrators reach the modeler."""
import io

import pytest

from app.extensions import db
from app.models import AuditEvent, ModelDraft, ProcessModelVersion
from tests.canary import CANARY, CANARY_TEXT
from tests.modeler.conftest import BPMN, DEMO, draft_of, edited

NS = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
HOSTILE = {
    "external entity": (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{CANARY}">]>'
                        f'<bpmn:definitions {NS}><bpmn:process id="p" name="&x;" isExecutable="true"/></bpmn:definitions>',
                        "DOCTYPE"),
    "billion laughs": ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                       + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                                 for i in range(1, 10))
                       + f']><bpmn:definitions {NS}><bpmn:process id="p" name="&lol9;"/></bpmn:definitions>', "DOCTYPE"),
    "external DTD": (f'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/x.dtd"><bpmn:definitions {NS}/>',
                     "DOCTYPE"),
    "not xml": ("%PDF-1.7 this is not a diagram", "不是有效的 XML"),
    "cut short": (DEMO[: len(DEMO) // 2], "不是有效的 XML"),
    "empty": ("", "文件为空"),
    "not utf-8": ("<?xml version='1.0'?><a>中文</a>".encode("gbk"), "UTF-8"),
    "deep nesting": ("<a>" * 100_000 + "</a>" * 100_000, "不是"),
    "wrong root": ('<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"/>', "不是 BPMN 模型"),
    "no process": (f"<bpmn:definitions {NS}/>", "没有流程"),
}


def upload(client, name, content, key="demo_review"):
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    return client.post(f"/modeler/{key}/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_and_malformed_uploads_are_refused_at_the_field(demo_v1, manager, case):
    content, expected = HOSTILE[case]
    before = draft_of(manager)
    response = upload(manager, "evil.bpmn", content)
    assert response.status_code == 422, case
    html = response.get_data(as_text=True)
    assert 'data-field-error="file"' in html and expected in html, (case, html[-2000:])
    assert CANARY_TEXT not in html
    after = draft_of(manager)
    assert after["xml"] == before["xml"] and after["lock_version"] == before["lock_version"]
    assert db.session.scalar(db.select(db.func.count(ProcessModelVersion.id))) == 1


def test_a_huge_file_is_refused_before_it_is_parsed(demo_v1, manager, app):
    app.config["MODELER_MAX_BYTES"] = 64 * 1024
    huge = DEMO.replace("</bpmn:definitions>", "<!--" + "x" * 70_000 + "--></bpmn:definitions>")
    response = upload(manager, "huge.bpmn", huge)
    assert response.status_code == 422 and "文件过大" in response.get_data(as_text=True)
    # Larger than the server accepts at all: refused by the request size limit.
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024
    response = upload(manager, "huger.bpmn", DEMO + " " * 300_000)
    assert response.status_code == 413
    saved = manager.post("/modeler/demo_review/draft", json={"xml": huge, "lock_version": 1})
    assert saved.status_code == 422 and "文件过大" in saved.get_json()["message"]


def test_wrong_file_types_and_hostile_saves_are_refused(demo_v1, manager):
    response = upload(manager, "diagram.xml", DEMO)
    assert response.status_code == 422 and "只能导入 .bpmn 或 .dmn 文件" in response.get_data(as_text=True)
    hostile = manager.post("/modeler/demo_review/draft", json={"xml": HOSTILE["external entity"][0], "lock_version": 1})
    assert hostile.status_code == 422 and "DOCTYPE" in hostile.get_json()["fields"]["bpmn"]
    bad_dmn = manager.post("/modeler/demo_review/draft", json={"dmn": {"../../etc.dmn": "<x/>"}, "lock_version": 1})
    assert bad_dmn.status_code == 422
    assert draft_of(manager)["lock_version"] == 1


def test_a_good_bpmn_upload_replaces_the_draft_and_export_gives_it_back(demo_v1, manager):
    response = upload(manager, "demo_review.bpmn", edited(DEMO))
    assert response.status_code == 302 and response.headers["Location"].endswith("/modeler/demo_review/edit")
    assert "审核申报材料" in draft_of(manager)["xml"]
    assert db.session.scalar(db.select(AuditEvent.id).where(AuditEvent.action == "process.import")) is not None
    exported = manager.get("/modeler/demo_review/export")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    assert "审核申报材料" in exported.get_data(as_text=True)
    v1 = manager.get("/modeler/demo_review/export?version=1").get_data(as_text=True)
    assert v1 == DEMO


def _modeler_urls():
    return [("GET", "/modeler/"), ("GET", "/modeler/demo_review"), ("GET", "/modeler/demo_review/edit"),
            ("GET", "/modeler/demo_review/draft.json"), ("POST", "/modeler/demo_review/draft"),
            ("POST", "/modeler/demo_review/validate"), ("POST", "/modeler/demo_review/deploy"),
            ("POST", "/modeler/demo_review/versions/1/retire"), ("GET", "/modeler/demo_review/export?version=1"),
            ("POST", "/modeler/demo_review/import"), ("GET", "/modeler/demo_review/diff?from=1&to=draft"),
            ("POST", "/modeler/demo_review/trials"), ("POST", "/modeler/demo_review/discard"),
            ("GET", "/modeler/new")]


# Every role against every route is tests/security/test_permissions_matrix.py; here the
# roles closest to the modeler try each of its actions, with data, and change nothing.
@pytest.mark.parametrize("role", ["housing_center", "housing_bureau", "enterprise", "street_office"])
def test_other_roles_are_refused_everything_and_nothing_changes(demo_v1, login_as, role):
    client = login_as(role)
    for method, url in _modeler_urls():
        response = client.open(url, method=method, json={"xml": edited(DEMO), "lock_version": 1}
                               if url.endswith("/draft") else None,
                               data=None if url.endswith("/draft") else {"note": "x", "lock_version": 1})
        assert response.status_code == 403, (role, method, url, response.status_code)
    assert db.session.scalar(db.select(db.func.count(ModelDraft.id))) == 0
    assert db.session.scalar(db.select(ProcessModelVersion.status)) == "deployed"


def test_the_service_refuses_other_roles_too(demo_v1, factory):
    from app.services import modeler
    from app.services.errors import Forbidden
    clerk = factory.user("housing_center")
    for call in (lambda: modeler.open_draft("demo_review", clerk),
                 lambda: modeler.deploy_draft("demo_review", clerk, "x", 1),
                 lambda: modeler.retire_version("demo_review", 1, clerk)):
        with pytest.raises(Forbidden):
            call()


def test_anonymous_users_are_sent_to_login(demo_v1, client):
    response = client.get("/modeler/demo_review/edit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_dmn_upload_goes_into_the_draft_and_export_gives_it_back(demo_v1, manager, login_as):
    dmn = (BPMN / "star_rating.dmn").read_text(encoding="utf-8")
    for name, content, expected in (("star_rating.dmn", DEMO, "不是 DMN 模型"),
                                    ("star_rating.dmn", HOSTILE["external entity"][0], "DOCTYPE"),
                                    ("star_rating.dmn", dmn[: len(dmn) // 2], "不是有效的 XML")):
        refused = upload(manager, name, content)
        assert refused.status_code == 422 and expected in refused.get_data(as_text=True), expected
    assert draft_of(manager)["dmn"] == {}

    response = upload(manager, "../../star_rating.dmn", dmn)  # a path in the name is dropped
    assert response.status_code == 302 and response.headers["Location"].endswith("/modeler/demo_review/edit")
    draft = draft_of(manager)
    assert draft["dmn"] == {"star_rating.dmn": dmn} and draft["xml"] == DEMO  # the diagram is untouched
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "process.import"))
    assert event.after == {"file": "star_rating.dmn", "kind": "dmn"}
    assert "star_rating.dmn" in manager.get("/modeler/demo_review").get_data(as_text=True)

    exported = manager.get("/modeler/demo_review/export?dmn=star_rating.dmn")
    assert exported.status_code == 200 and exported.get_data(as_text=True) == dmn
    assert 'filename=star_rating.dmn' in exported.headers["Content-Disposition"]
    assert manager.get("/modeler/demo_review/export?dmn=other.dmn").status_code == 404
    assert manager.get("/modeler/demo_review/export?version=1&dmn=star_rating.dmn").status_code == 404  # not in v1
    # deployed with the draft, the version keeps it
    d = draft_of(manager)
    assert manager.post("/modeler/demo_review/deploy", data={"note": "加入星级表",
                                                             "lock_version": d["lock_version"]}).status_code == 302
    assert manager.get("/modeler/demo_review/export?version=2&dmn=star_rating.dmn").get_data(as_text=True) == dmn
    assert login_as("housing_center").get("/modeler/demo_review/export?version=2&dmn=star_rating.dmn").status_code == 403
