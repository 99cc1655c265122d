"""Small BPMN models for engine tests, written as the modeler would save them: one lane
(the housing center), the nodes in order, a sequence flow between each and the next."""
import re

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="defs_{pid}" targetNamespace="http://wuye.example/bpmn">
  <bpmn:process id="{pid}" name="{name}" isExecutable="true">
    <bpmn:laneSet id="lanes_{pid}"><bpmn:lane id="lane_{pid}" name="住保中心">{refs}</bpmn:lane></bpmn:laneSet>
{nodes}
{flows}
  </bpmn:process>
</bpmn:definitions>
"""
NODE_ID = re.compile(r'<bpmn:(?:startEvent|endEvent|userTask|scriptTask|serviceTask|intermediateCatchEvent|'
                     r'boundaryEvent)\s+id="([^"]+)"')


def start(node_id="start"):
    return f'<bpmn:startEvent id="{node_id}" name="发起"/>'


def end(node_id="end", name="结束"):
    return f'<bpmn:endEvent id="{node_id}" name="{name}"/>'


def user_task(node_id, name, form="demo.SubmitForm"):
    return (f'<bpmn:userTask id="{node_id}" name="{name}"><bpmn:extensionElements><spiffworkflow:properties>'
            f'<spiffworkflow:property name="formKey" value="{form}"/></spiffworkflow:properties>'
            f'</bpmn:extensionElements></bpmn:userTask>')


def script_task(node_id, name, script):
    return f'<bpmn:scriptTask id="{node_id}" name="{name}"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'


def service_task(node_id, name, operator, params=(), result="result"):
    parameters = "".join(f'<spiffworkflow:parameter id="{p}" type="str" value="{p}"/>' for p in params)
    return (f'<bpmn:serviceTask id="{node_id}" name="{name}"><bpmn:extensionElements>'
            f'<spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="{result}">'
            f'<spiffworkflow:parameters>{parameters}</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>'
            f'</bpmn:extensionElements></bpmn:serviceTask>')


def timer_catch(node_id, name, duration):
    return (f'<bpmn:intermediateCatchEvent id="{node_id}" name="{name}"><bpmn:timerEventDefinition id="{node_id}_def">'
            f'<bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition>'
            f'</bpmn:intermediateCatchEvent>')


def boundary_timer(node_id, name, attached_to, duration):
    return (f'<bpmn:boundaryEvent id="{node_id}" name="{name}" attachedToRef="{attached_to}">'
            f'<bpmn:timerEventDefinition id="{node_id}_def"><bpmn:timeDuration>{duration}</bpmn:timeDuration>'
            f'</bpmn:timerEventDefinition></bpmn:boundaryEvent>')


def flows(*chains) -> list[tuple[str, str]]:
    """flows(["start", "a", "end"], ["timer", "b", "end2"]) → the sequence flows along each chain."""
    return [(a, b) for chain in chains for a, b in zip(chain, chain[1:])]


def model(process_id: str, name: str, nodes: list[str], edges: list[tuple[str, str]]) -> str:
    body = "\n".join(f"    {n}" for n in nodes)
    refs = "".join(f"<bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>" for i in NODE_ID.findall(body))
    flow_xml = "\n".join(f'    <bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}"/>' for a, b in edges)
    return TEMPLATE.format(pid=process_id, name=name, refs=refs, nodes=body, flows=flow_xml)
