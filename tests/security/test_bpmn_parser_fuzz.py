"""The BPMN/DMN deploy parser (every upload and every modeler deploy ends here) on
malformed and hostile XML: it refuses with a clear ValidationFailed, never crashes, never
resolves an entity or reads a file, and deploys nothing."""
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.deploy import deploy
from app.extensions import db
from app.models import ProcessModelVersion
from app.services.errors import ValidationFailed
from tests.canary import CANARY, CANARY_TEXT

SHIPPED = (Path(__file__).resolve().parents[2] / "bpmn" / "demo_review.bpmn").read_text(encoding="utf-8")

HOSTILE = {
    "external entity": f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{CANARY}">]>'
                       '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
                       '<bpmn:process id="p" name="&x;" isExecutable="true"/></bpmn:definitions>',
    "billion laughs": '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                      + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                                for i in range(1, 10))
                      + ']><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
                        '<bpmn:process id="p" name="&lol9;"/></bpmn:definitions>',
    "not xml": "%PDF-1.7 this is not a diagram",
    "empty": "",
    "deep nesting": "<a>" * 100_000 + "</a>" * 100_000,
    "no process": '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>',
}


def versions() -> int:
    return db.session.scalar(db.select(db.func.count(ProcessModelVersion.id)))


def refused(xml: str) -> bool:
    try:
        deploy("fuzzed", xml)
    except ValidationFailed as e:
        db.session.rollback()
        assert e.message and e.fields.get("bpmn")
        return True
    return False


def test_hostile_and_malformed_diagrams_are_refused_clearly(app):
    for name, xml in HOSTILE.items():
        try:
            deploy("hostile", xml)
        except ValidationFailed as e:
            db.session.rollback()
            assert CANARY_TEXT not in str(e.fields), name  # the entity was never resolved
        else:
            raise AssertionError(f"{name} was deployed")
    assert versions() == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_damage_to_a_diagram_is_refused_or_deployed_never_a_crash(app, data):
    """Cut, splice and overwrite a shipped diagram at random places."""
    xml = SHIPPED
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(xml)))
        action = data.draw(st.sampled_from(["cut", "insert", "truncate"]))
        if action == "cut":
            xml = xml[:at] + xml[at + data.draw(st.integers(1, 200)):]
        elif action == "insert":
            xml = xml[:at] + data.draw(st.sampled_from(["<", ">", "&", '"', "\x00", "]]>", "<!--", "&amp;",
                                                         "<bpmn:userTask id=\"x\"/>", "’", "\ud7ff"])) + xml[at:]
        else:
            xml = xml[:at]
    before = versions()
    if refused(xml):
        assert versions() == before
