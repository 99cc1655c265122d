"""Parsing BPMN/DMN into SpiffWorkflow specs, serializing them once per version, and
caching the parsed spec per version (never parse per request).

Wuye's own service task spec turns a call to an *external* operator (bank, device
platform) into a STARTED task that waits for a worker job instead of blocking the request.
"""
import json
from functools import lru_cache
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
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


class WorkflowStateConverter(BpmnWorkflowConverter):
    """SpiffWorkflow's workflow converter, plus the per-instance state without the spec.

    Restoring the spec is about two thirds of a full `from_dict` and converting it half of
    a `to_dict`; the spec never changes within a version, so an instance's load takes the
    version's restored spec from `cached_spec` and its save leaves the spec out."""

    def state_to_dict(self, workflow: BpmnWorkflow) -> dict:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        dct["typename"] = self.typename  # the same dict as to_dict's, minus the spec
        return dct

    def state_from_dict(self, state: dict, spec, subprocess_specs, script_engine=None) -> BpmnWorkflow:
        """`from_dict` with the spec given instead of restored (the same steps otherwise)."""
        dct = dict(state)
        workflow = self.target_class(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_config = dict(SPIFF_CONFIG)
_config[WuyeServiceTask] = ServiceTaskConverter
_registry = BpmnWorkflowSerializer.configure(_config)
state_converter = WorkflowStateConverter(BpmnWorkflow, _registry)  # replaces the default one
serializer = BpmnWorkflowSerializer(_registry)
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


@lru_cache(maxsize=256)
def cached_spec(version_id: int, checksum: str):
    """(spec, subprocess_specs) of a version restored once from its stored spec_json; like
    the parsed specs, they are templates that every loaded instance of the version shares."""
    spec_json = cached_spec_json(version_id, checksum)
    return (_registry.restore(spec_json["spec"]),
            {name: _registry.restore(sub) for name, sub in spec_json["subprocess_specs"].items()})


def state_to_dict(workflow: BpmnWorkflow) -> dict:
    """An instance's state: the serialized workflow without the version's spec."""
    return state_converter.state_to_dict(workflow)


def state_from_dict(state: dict, version_id: int, checksum: str, script_engine=None) -> BpmnWorkflow:
    return state_converter.state_from_dict(state, *cached_spec(version_id, checksum), script_engine=script_engine)
