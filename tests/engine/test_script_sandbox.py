"""The restricted script engine: normal BPMN use, serializer round trip, and escape attempts.

No database, no Flask: a tiny BPMN parsed with SpiffBpmnParser and run with WuyeScriptEngine.
"""
import json
import os
import subprocess
import sys
import time
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from app.engine.scripting import (Limits, RestrictedEnvironment, ScriptError, WuyeScriptEngine,
                                  check_compiles)

NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
      'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"')

CALC_SCRIPT = """\
total = str(Decimal(price) * qty + Decimal('0.10'))
due = (date.fromisoformat(reported_on) + timedelta(days=3)).isoformat()
deadline = working_days(reported_on, 5)
stamp = now()
names = ', '.join(sorted(n.upper() for n in tags))
double = lambda x: x * 2
doubled = [double(i) for i in range(3)]
del double
"""


def repair_bpmn(condition: str) -> bytes:
    """start -> script -> user task -> gateway (condition / default) -> script -> service -> end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="repair" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="calc" name="Calculate">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{escape(CALC_SCRIPT)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="review" name="Review">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="gw" default="f_small">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f_big</bpmn:outgoing><bpmn:outgoing>f_small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:scriptTask id="big" name="Big">
      <bpmn:incoming>f_big</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>route = 'big'</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:scriptTask id="small" name="Small">
      <bpmn:incoming>f_small</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:script>route = 'small'</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:serviceTask id="pay" name="Pay">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="bank.send_instruction" resultVariable="payment">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="amount" type="str" value="total"/>
            <spiffworkflow:parameter id="memo" type="str" value="f'{{route}}: {{names}}'"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="calc"/>
    <bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="review"/>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="gw"/>
    <bpmn:sequenceFlow id="f_big" sourceRef="gw" targetRef="big">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_small" sourceRef="gw" targetRef="small"/>
    <bpmn:sequenceFlow id="f4" sourceRef="big" targetRef="pay"/>
    <bpmn:sequenceFlow id="f5" sourceRef="small" targetRef="pay"/>
    <bpmn:sequenceFlow id="f6" sourceRef="pay" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


HELPERS = {
    'working_days': lambda start, n: f'{start}+{n}wd',
    'now': lambda: '2024-05-06T09:00:00+08:00',
}
START_DATA = {'price': '199.90', 'qty': 6, 'reported_on': '2024-05-06', 'tags': ['roof', 'leak']}
EXPECTED_AFTER_CALC = {
    **START_DATA, 'total': '1199.50', 'due': '2024-05-09', 'deadline': '2024-05-06+5wd',
    'stamp': '2024-05-06T09:00:00+08:00', 'names': 'LEAK, ROOF', 'doubled': [0, 2, 4],
}


class ServiceRecorder:
    def __init__(self):
        self.calls = []

    def __call__(self, task, operation_name, params):
        self.calls.append((task.task_spec.bpmn_id, operation_name, params))
        return {'status': 'sent', 'amount': params['amount']}


def make_engine(service_caller=None, **limits):
    env = RestrictedEnvironment(helpers=HELPERS, limits=Limits(**limits) if limits else None)
    return WuyeScriptEngine(environment=env, service_caller=service_caller)


def start_workflow(condition, engine, data=START_DATA):
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(repair_bpmn(condition))
    wf = BpmnWorkflow(parser.get_spec('repair'), parser.get_subprocess_specs('repair'), script_engine=engine)
    wf.get_tasks(state=TaskState.READY)[0].data.update(json.loads(json.dumps(data)))
    wf.do_engine_steps()
    return wf


def complete_review(wf, **data):
    [task] = wf.get_tasks(state=TaskState.READY, manual=True)
    assert task.task_spec.bpmn_id == 'review'
    task.data.update(data)
    task.run()
    wf.do_engine_steps()


BIG = "Decimal(total) > Decimal('1000') and approved"


# ------------------------------------------------------------------ normal use
def test_script_task_sets_only_plain_variables():
    wf = start_workflow(BIG, make_engine(ServiceRecorder()))
    [review] = wf.get_tasks(state=TaskState.READY, manual=True)
    # helpers, builtins, guards, the lambda and deleted temporaries never reach task data
    assert review.data == EXPECTED_AFTER_CALC
    json.dumps(review.data)


@pytest.mark.parametrize('approved, route', [(True, 'big'), (False, 'small')])
def test_gateway_condition_and_service_task(approved, route):
    service = ServiceRecorder()
    wf = start_workflow(BIG, make_engine(service))
    complete_review(wf, approved=approved)
    assert wf.is_completed()
    end_data = wf.get_tasks(state=TaskState.COMPLETED)[-1].data
    assert end_data['route'] == route
    assert service.calls == [('pay', 'bank.send_instruction',
                              {'amount': '1199.50', 'memo': f'{route}: LEAK, ROOF'})]
    assert end_data['payment'] == {'status': 'sent', 'amount': '1199.50'}


def test_serializer_round_trip_then_engine_set_again():
    service = ServiceRecorder()
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    wf = start_workflow(BIG, make_engine(service))
    state = serializer.serialize_json(wf)

    loaded = serializer.deserialize_json(state)
    assert not isinstance(loaded.script_engine, WuyeScriptEngine)  # the engine is not serialized
    loaded.script_engine = make_engine(service)
    [review] = loaded.get_tasks(state=TaskState.READY, manual=True)
    assert review.data == EXPECTED_AFTER_CALC
    complete_review(loaded, approved=True)
    assert loaded.is_completed()
    assert loaded.get_tasks(state=TaskState.COMPLETED)[-1].data['route'] == 'big'
    assert len(service.calls) == 1
    assert serializer.deserialize_json(serializer.serialize_json(loaded)).is_completed()


def test_evaluate_with_external_context_and_safe_isinstance():
    env = RestrictedEnvironment()
    data = {'amount': '12.5', 'items': [1, 2, 3]}
    assert env.evaluate("Decimal(amount) * 2 == Decimal('25.0')", data) is True
    assert env.evaluate('limit > len(items)', data, external_context={'limit': 5}) is True
    assert env.evaluate('isinstance(items, (list, tuple)) and isinstance(3, int)', data) is True
    assert env.evaluate("isinstance(Decimal(amount), Decimal) and not isinstance(amount, range)", data) is True
    assert env.evaluate("f'{Decimal(amount):.2f}|{len(items):>4}|{items!r}|{amount=}'", data) == \
        "12.50|   3|[1, 2, 3]|amount='12.5'"
    assert env.evaluate("str(items) + str(3) + str(b'x', 'ascii')", data) == '[1, 2, 3]3x'
    assert env.evaluate('round(Decimal(amount)) + int(amount[:2]) + sum(items)', data) == 30
    assert data == {'amount': '12.5', 'items': [1, 2, 3]}


def test_execute_is_transactional_and_refuses_unstorable_values():
    env = RestrictedEnvironment()
    data = {'a': 1, 'items': [1], '_host': 'kept'}
    with pytest.raises(ScriptError, match='line 3'):
        env.execute('a = 2\nitems.append(2)\nb = 1 / 0', data)
    assert data == {'a': 1, 'items': [1], '_host': 'kept'}
    with pytest.raises(ScriptError, match='Decimal'):
        env.execute("total = Decimal('1.5')", data)
    with pytest.raises(ScriptError, match='when'):
        env.execute('when = date(2024, 1, 1)', data)
    with pytest.raises(ScriptError):
        env.execute('d = {1: 2}', data)
    assert data == {'a': 1, 'items': [1], '_host': 'kept'}
    env.execute("total = str(Decimal('1.5'))\ndel a", data)
    assert data == {'items': [1], 'total': '1.5', '_host': 'kept'}


def test_check_compiles():
    assert check_compiles('x = [i * 2 for i in range(3)]\ny = f"{x}"') == []
    assert check_compiles("amount > 10 and status == 'ok'", 'eval') == []
    for bad in ('import os', 'x = ().__class__', 'x = g.gi_frame', 'eval("1")', 'print(1)',
                'try:\n    pass\nexcept:\n    pass', 'class A:\n    pass', 'x = ('):
        assert check_compiles(bad), bad
    assert check_compiles('x = 1', 'eval')  # a statement is not an expression
    assert check_compiles("__import__('os')", 'eval')


def test_engine_refuses_unsafe_environment():
    with pytest.raises(TypeError):
        WuyeScriptEngine(environment=TaskDataEnvironment())


def test_trace_function_is_restored():
    def outer_tracer(frame, event, arg):
        return None

    env = RestrictedEnvironment()
    previous = sys.gettrace()
    sys.settrace(outer_tracer)
    try:
        env.execute('x = 1', {})
        with pytest.raises(ScriptError):
            env.execute('x = 1 / 0', {})
        assert sys.gettrace() is outer_tracer
    finally:
        sys.settrace(previous)


# ------------------------------------------------------------------ escapes
ESCAPES = {
    'dunder import': "__import__('os').system('touch {canary}')",
    'import statement': "import os\nos.system('touch {canary}')",
    'from import': "from os import system\nsystem('touch {canary}')",
    'subclasses walk': ("for c in ().__class__.__base__.__subclasses__():\n"
                        "    if c.__name__ == '_wrap_close':\n"
                        "        c.__init__.__globals__['system']('touch {canary}')"),
    'mro': 'x = [].__class__.__mro__[-1].__subclasses__()',
    'lambda globals': "(lambda: 0).__globals__['__builtins__']['__import__']('os').system('touch {canary}')",
    'function code': 'f = lambda: 0\nx = f.__code__',
    'generator frame': ('def g():\n    yield 1\n'
                        "x = g().gi_frame.f_back.f_globals['__builtins__']"),
    'format attribute walk': "x = '{{0.__class__.__base__.__subclasses__}}'.format(1)",
    'format globals': "f = lambda: 0\nx = '{{.__globals__}}'.format(f)",
    'format via str type': "x = str.format('{{0.__class__}}', 1)",
    'format_map': "x = '{{a.__class__}}'.format_map({{'a': 1}})",
    'getattr': "x = getattr(1, '__class__')",
    'getattr dunder string': "x = getattr(len, '__self__')",
    'open read': "x = open('/etc/passwd').read()",
    'open write': "open('{canary}', 'w').write('x')",
    'eval': "eval('1')",
    'exec': "exec('x = 1')",
    'compile': "x = compile('1', 'f', 'eval')",
    'globals': 'x = globals()',
    'locals': 'x = locals()',
    'vars': 'x = vars()',
    'dir': 'x = dir()',
    'type': 'x = type(1)',
    'breakpoint': 'breakpoint()',
    'help': 'help()',
    'builtins name': "x = __builtins__",
    'f-string attribute': "x = f'{{(1).__class__}}'",
    'setattr on helper': 'now.x = 1',
    'class definition': 'class A:\n    pass',
    'catch the time limit': 'while True:\n    try:\n        while True:\n            pass\n    except:\n        pass',
    'endless loop': 'while True: pass',
    'endless loop with body': 'n = 0\nwhile True:\n    n += 1',
    'huge power': 'x = 10**10**10',
    'huge power in place': 'x = 10\nx **= 10**10',
    'huge shift': 'x = 1 << 10**10',
    'huge string repeat': "x = 'a' * 10**10",
    'huge string in place': "x = 'a'\nx *= 10**10",
    'huge range list': 'x = list(range(10**9))',
    'huge list repeat': 'x = [0] * 10**9',
    'huge ljust': "x = 'a'.ljust(10**10)",
    'huge replace': "s = 'a' * 10**6\nx = s.replace('a', s)",
    'huge join': "s = 'a' * 10**6\nx = s.join([s] * 1000)",
    'huge format width': "x = f'{{1:>{{10**9}}}}'",
    'percent formatting': "x = '%0*d' % (10**9, 1)",
    'huge decimal to int': "x = int(Decimal('1e999999999'))",
    'slow decimal logarithm': "x = str(Decimal('0.' + '9' * 10**6).ln())",
    'long decimal literal': "x = str(Decimal(10**400))",
    'huge decimal power then int': "x = int(Decimal('1e4000') ** 200)",
    'str of aliased list': "s = 'a' * 10**6\nx = str([s] * 10**6)",
    'f-string of aliased list': "s = 'a' * 10**6\nx = f'{{[s] * 1000}}'",
    'many f-string fields': "s = 'a' * 10**7\nx = f'{{s}}{{s}}{{s}}'",
    'exponential nesting': "x = [0]\nfor i in range(64):\n    x = [x, x]\ny = f'{{x}}'",
    'unstorable nesting': "x = [0]\nfor i in range(64):\n    x = [x, x]",
    'quadratic sum of lists': 'x = sum([[0] * 1000] * 1000, [])',
    'memory growth': 'x = [str(i) * 10**6 for i in range(10**6)]',
    'deep recursion': 'f = lambda n: f(n + 1)\nf(0)',
}


@pytest.fixture
def no_os_effects(tmp_path, monkeypatch):
    """A canary file path plus os.system/subprocess stubs that record any call."""
    called = []
    monkeypatch.setattr(os, 'system', lambda *a, **k: called.append(a))
    monkeypatch.setattr(subprocess, 'Popen', lambda *a, **k: called.append(a))
    canary = tmp_path / 'canary'
    yield canary
    assert not canary.exists()
    assert called == []


@pytest.mark.parametrize('source', ESCAPES.values(), ids=ESCAPES.keys())
def test_escape_is_refused_without_effect(source, no_os_effects):
    env = RestrictedEnvironment(helpers=HELPERS)
    data = {'a': 1}
    started = time.monotonic()
    with pytest.raises(ScriptError):
        env.execute(source.format(canary=no_os_effects), data)
    assert time.monotonic() - started < 3
    assert data == {'a': 1}


@pytest.mark.parametrize('expression', [
    "__import__('os').system('touch {canary}')",
    '().__class__.__base__.__subclasses__()',
    "'{{0.__class__}}'.format(1)",
    "open('{canary}', 'w')",
    '10**10**10',
    "'a' * 10**10",
    '[0 for i in range(10**6) for j in range(10**6)]',
    'lambda: 0',
    '(i for i in range(3))',
], ids=lambda e: e[:30])
def test_escape_in_expression_is_refused(expression, no_os_effects):
    with pytest.raises(ScriptError):
        RestrictedEnvironment(limits=Limits(timeout=0.3)).evaluate(expression.format(canary=no_os_effects), {})


def test_gateway_condition_escape_fails_the_task(no_os_effects):
    wf = start_workflow(f"__import__('os').system('touch {no_os_effects}')", make_engine(ServiceRecorder()))
    with pytest.raises(WorkflowTaskException) as info:
        complete_review(wf, approved=True)
    assert isinstance(info.value.__cause__, ScriptError)
    assert 'sandbox' in str(info.value)


def test_script_task_error_carries_task_line_and_script_error():
    with pytest.raises(WorkflowTaskException) as info:
        start_workflow(BIG, make_engine(ServiceRecorder()), data={**START_DATA, 'qty': 'six'})
    assert isinstance(info.value.__cause__, ScriptError)
    assert info.value.task.task_spec.bpmn_name == 'Calculate'
    assert info.value.line_number == 1
    assert 'total' not in info.value.task.data


def test_time_limit_is_configurable():
    env = RestrictedEnvironment(limits=Limits(timeout=0.2))
    started = time.monotonic()
    with pytest.raises(ScriptError, match='time limit'):
        env.execute('x = 0\nwhile x >= 0:\n    x = x + 1', {})
    assert time.monotonic() - started < 1


def test_concurrent_scripts_share_memory_tracking():
    import threading
    import tracemalloc
    was_tracing = tracemalloc.is_tracing()
    env, errors = RestrictedEnvironment(), []

    def work():
        for _ in range(20):
            data = {}
            env.execute('x = sum([i for i in range(2000)])', data)
            errors.append(data != {'x': 1999000})

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not any(errors)
    assert tracemalloc.is_tracing() == was_tracing


def test_default_engine_really_is_unsafe(tmp_path):
    """Why this module exists: SpiffWorkflow's default engine runs anything."""
    canary = tmp_path / 'canary'
    engine = PythonScriptEngine()
    engine.environment.execute(f"open({str(canary)!r}, 'w').write('x')", {})
    assert canary.exists()
