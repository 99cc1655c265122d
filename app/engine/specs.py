"""Parsing BPMN/DMN into SpiffWorkflow specs, serializing them once per version, and
caching the parsed spec per version (never parse per request).

Wuye's own service task spec turns a call to an *external* operator (bank, device
platform) into a STARTED task that waits for a worker job instead of blocking the request.
"""
import json
from functools import lru_cache

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask

from app.engine import registry
from app.engine.calendar import install_engine_clock

install_engine_clock()

EXTERNAL_CALL = "wuye_external_call"


class WuyeServiceTask(ServiceTask):
    """Inline operators run at once; external ones leave the task STARTED with the call
    (operator and evaluated parameters) in its internal data for the runtime to queue."""

    def _execute(self, task):
        op = registry.get_operator(self.operation_name)
        if op is not None and op.external:
            params = {name: p["value"] for name, p in self.evaluate_params(task).items()}
            task._set_internal_data(**{EXTERNAL_CALL: {"operator": self.operation_name, "params": params,
                                                       "result_variable": self.result_variable}})
            return None
        return super()._execute(task)


class WuyeParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, WuyeServiceTask),
    }


_config = dict(SPIFF_CONFIG)
_config[WuyeServiceTask] = ServiceTaskConverter
serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))
SERIALIZER_VERSION = serializer.VERSION

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def safe_xml(xml: str | bytes) -> etree._Element:
    """Parse untrusted XML (uploaded diagrams) with entities and network access off."""
    data = xml.encode() if isinstance(xml, str) else xml
    return etree.fromstring(data, _XML_PARSER)


def executable_process_ids(bpmn_xml: str) -> list[str]:
    root = safe_xml(bpmn_xml)
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    return [p.get("id") for p in root.findall("bpmn:process", ns) if p.get("isExecutable", "true") != "false"]


def parse(bpmn_xml: str, dmn_files: dict[str, str] | None = None, process_id: str | None = None):
    """(spec, subprocess_specs) for the process; raises on invalid BPMN/DMN."""
    parser = WuyeParser()
    parser.add_bpmn_xml(safe_xml(bpmn_xml), filename="model.bpmn")
    for name, xml in (dmn_files or {}).items():
        parser.add_dmn_xml(safe_xml(xml), filename=name)
    process_id = process_id or executable_process_ids(bpmn_xml)[0]
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def spec_to_json(spec, subprocess_specs) -> dict:
    """The spec part of a serialized workflow, stored once per version."""
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    full = serializer.to_dict(BpmnWorkflow(spec, subprocess_specs))
    return {"spec": full["spec"], "subprocess_specs": full["subprocess_specs"]}


def _version_sources(version_id: int):
    from app.extensions import db
    from app.models import ProcessModelVersion
    return db.session.get(ProcessModelVersion, version_id)


# A version's content never changes; the checksum in the key keeps the cache right even
# where ids are reused (a database rebuilt from scratch).
@lru_cache(maxsize=256)
def cached_parsed(version_id: int, checksum: str):
    """(spec, subprocess_specs) of a version, parsed once per process; specs are templates
    that many workflows share."""
    version = _version_sources(version_id)
    return parse(version.bpmn_xml, version.dmn_files, version.process_id)


@lru_cache(maxsize=256)
def _spec_text(version_id: int, checksum: str) -> str:
    version = _version_sources(version_id)
    spec_json = version.spec_json or spec_to_json(*parse(version.bpmn_xml, version.dmn_files, version.process_id))
    return json.dumps(spec_json)


def cached_spec_json(version_id: int, checksum: str) -> dict:
    """A fresh copy of the version's serialized spec (the deserializer may change what it is given)."""
    return json.loads(_spec_text(version_id, checksum))
