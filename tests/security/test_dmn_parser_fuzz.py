"""The DMN decision-table parser — the modeler's upload check and the deploy that parses the
tables — on malformed and hostile XML: a clear refusal at the field (or a table that deploys),
never a crash, never an entity resolved or a file read, never a script run outside the
sandbox. Fuzzed with hypothesis from the shipped star-rating table."""
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from SpiffWorkflow.exceptions import WorkflowException

from app.engine import decisions
from app.engine.deploy import deploy
from app.extensions import db
from app.models import ModelDraft, ProcessModelVersion
from app.services.errors import ValidationFailed
from app.services.modeler import check_xml
from tests.canary import CANARY, CANARY_TEXT

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
RATING = (BPMN / "evaluation_rating.bpmn").read_text(encoding="utf-8")
STAR = (BPMN / "star_rating.dmn").read_text(encoding="utf-8")
GRADE = (BPMN / "community_grade.dmn").read_text(encoding="utf-8")
ESCAPED = Path("/tmp/wuye-dmn-canary")  # a table entry that escaped the sandbox would write it
DMN_NS = 'xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"'

HOSTILE = {
    "external entity": f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{CANARY}">]>'
                       f'<definitions {DMN_NS} id="d"><decision id="star_rating" name="&x;"/></definitions>',
    "billion laughs": '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                      + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                                for i in range(1, 10))
                      + f']><definitions {DMN_NS}><decision id="star_rating" name="&lol9;"/></definitions>',
    "external DTD": f'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/x.dtd"><definitions {DMN_NS}/>',
    "parameter entity": f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "file://{CANARY}">%p;]>'
                        f'<definitions {DMN_NS}/>',
    "deep nesting": "<a>" * 100_000 + "</a>" * 100_000,
    "not xml": "%PDF-1.7 this is not a decision table",
    "a BPMN file": RATING,
    "cut short": STAR[: len(STAR) // 2],
    "empty": "",
}
# Expressions a table entry might carry to escape the script sandbox.
ESCAPES = ["__import__('os').system('touch /tmp/wuye-dmn-canary')", "().__class__.__base__.__subclasses__()",
           "open('/etc/hostname').read()", "9**9**9**9", "[0] * 10**9", "exec('x=1')", "globals()",
           "getattr(enterprise_score, '__class__')", "lambda: 1", "'%s' % enterprise_score"]


def refused(call) -> bool:
    """True when `call` refused with a clear message at a field; False when it went through.
    Anything else (a crash) fails the test."""
    try:
        call()
    except ValidationFailed as e:
        db.session.rollback()
        assert e.message and e.fields and all(e.fields.values())
        assert CANARY_TEXT not in str(e.fields), "an entity was resolved"
        assert "Traceback" not in str(e.fields)
        return True
    return False


def deploy_with(star_dmn: str):
    return deploy("evaluation_rating", RATING, {"star_rating.dmn": star_dmn, "community_grade.dmn": GRADE})


def decide_or_refuse():
    """A deployed table decides, or the engine refuses the rule (its sandbox error, which
    makes an incident of the case), never another exception and never an escape."""
    try:
        result = decisions.decide("evaluation_rating", {"enterprise_score": 91, "community_score": 80})
    except WorkflowException:
        return
    assert isinstance(result, dict)


def versions() -> int:
    return db.session.scalar(db.select(db.func.count(ProcessModelVersion.id)))


@pytest.fixture(autouse=True)
def no_canary():
    ESCAPED.unlink(missing_ok=True)
    yield
    assert not ESCAPED.exists(), "a table entry ran outside the sandbox"


def test_hostile_tables_are_refused_by_the_upload_check_and_by_deploy(app):
    for name, xml in HOSTILE.items():
        assert refused(lambda: check_xml(xml, "dmn", "dmn")), name
        assert refused(lambda: deploy_with(xml)), name
    assert versions() == 0


def test_an_xinclude_is_never_followed(app):
    xml = STAR.replace('<decision id="star_rating"', f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                                                    f'href="file://{CANARY}" parse="text"/><decision id="star_rating"')
    assert check_xml(xml, "dmn", "dmn") == xml  # stored as uploaded, nothing included
    if not refused(lambda: deploy_with(xml)):
        version = db.session.scalar(db.select(ProcessModelVersion))
        assert CANARY_TEXT not in str(version.spec_json)
        assert decisions.decide("evaluation_rating", {"enterprise_score": 91, "community_score": 80})["stars"] == 4


@pytest.mark.parametrize("entry", ESCAPES)
def test_a_table_entry_never_runs_outside_the_sandbox(app, entry):
    hostile = STAR.replace("<text>&gt;= 95</text>", f"<text>{entry.replace('<', '&lt;')}</text>", 1)
    check_xml(hostile, "dmn", "dmn")  # well-formed XML: the upload check lets it through
    if not refused(lambda: deploy_with(hostile)):
        decide_or_refuse()


def mutated(data) -> str:
    xml = STAR
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(xml)))
        action = data.draw(st.sampled_from(["cut", "insert", "truncate", "entry"]))
        if action == "cut":
            xml = xml[:at] + xml[at + data.draw(st.integers(1, 120)):]
        elif action == "insert":
            xml = xml[:at] + data.draw(st.sampled_from([
                "<", ">", "&", '"', "\x00", "]]>", "<!--", "&amp;", "&#0;", "&#xD800;", "<![CDATA[", "’", "\ud7ff",
                '<rule id="r"><inputEntry><text>x</text></inputEntry></rule>', "<decision id=\"star_rating\"/>",
                '<?xml version="1.0"?>', "<!DOCTYPE x>", 'hitPolicy="COLLECT"', "typeRef=\"string\""])) + xml[at:]
        elif action == "truncate":
            xml = xml[:at]
        else:  # an entry's text replaced by something hostile or nonsensical
            texts = [i for i in range(len(xml)) if xml.startswith("<text>", i)]
            if texts:
                start = data.draw(st.sampled_from(texts)) + len("<text>")
                end = xml.find("</text>", start)
                entry = data.draw(st.one_of(st.sampled_from(ESCAPES), st.text(max_size=30)))
                xml = xml[:start] + entry.replace("&", "&amp;").replace("<", "&lt;") + xml[end:]
    return xml


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_damage_to_a_table_is_refused_or_deployed_never_a_crash(app, data):
    xml = mutated(data)
    before = versions()
    if refused(lambda: check_xml(xml, "dmn", "dmn")):
        return
    if refused(lambda: deploy_with(xml)):
        assert versions() == before
        return
    decide_or_refuse()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_uploading_a_damaged_table_in_the_modeler_is_a_clear_answer_never_a_server_error(app, login_as, data):
    if versions() == 0:
        deploy_with(STAR)
    manager = getattr(app, "_fuzz_manager", None) or login_as("process_manager")
    app._fuzz_manager = manager
    xml = data.draw(st.sampled_from(sorted(HOSTILE.values()))) if data.draw(st.booleans()) else mutated(data)
    before = db.session.scalar(db.select(ModelDraft.dmn_files))
    response = manager.post("/modeler/evaluation_rating/import", content_type="multipart/form-data",
                            data={"file": (io.BytesIO(xml.encode("utf-8")), "star_rating.dmn")})
    assert response.status_code in (302, 422), response.status_code
    body = response.get_data(as_text=True)
    assert CANARY_TEXT not in body
    if response.status_code == 422:
        assert 'data-field-error="file"' in body
        db.session.expire_all()
        assert db.session.scalar(db.select(ModelDraft.dmn_files)) == before  # nothing changed
