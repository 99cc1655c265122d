"""Decisions through the engine: run the latest deployed version of a straight-through
process (business rule tasks calling DMN tables, no user tasks) in memory and return its
data. The tables are the ones managers edit in the modeler; a newly deployed version is
used from the next call on. Nothing is stored: a decision is not a case."""
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from app.engine import specs
from app.engine.runtime import EngineError, latest_version, script_helpers
from app.engine.scripting import RestrictedEnvironment, WuyeScriptEngine


def decide(model_key: str, data: dict) -> dict:
    version = latest_version(model_key)
    spec, subs = specs.cached_parsed(version.id, version.checksum)
    wf = BpmnWorkflow(spec, subs, script_engine=WuyeScriptEngine(
        environment=RestrictedEnvironment(helpers=script_helpers())))
    for task in wf.get_tasks():
        task.data.update(data)
    wf.do_engine_steps()
    if not wf.is_completed():
        raise EngineError(f"{model_key} did not complete: a decision process must not wait")
    return dict(wf.last_task.data if wf.last_task is not None else wf.data)
