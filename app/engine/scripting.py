"""Restricted script engine: the security boundary for BPMN scripts and expressions.

Managers edit BPMN in the browser, so script tasks, gateway conditions, service-task
parameters, timer expressions and DMN entries are untrusted code; SpiffWorkflow's default
engine is plain exec/eval. Everything runs here instead, in layers:

* Policy (compile time): RestrictedPython with ``_Policy``, a subclass of its
  ``RestrictingNodeTransformer`` (the library's policy hook). RestrictedPython refuses
  ``_``-names/attributes, frame/generator/code attributes, exec/eval calls, and its
  ``safer_getattr`` refuses ``str.format``/``format_map``. ``_Policy`` also refuses import,
  try, with, class, print and ``%``-formatting (so a limit error can't be caught), and routes
  ``+ * ** <<`` and f-string format specs through size-checking guards.
* Names: only ``_builtins`` below, Decimal/date/datetime/timedelta and the host's helpers
  exist; open, eval, compile, getattr, type, globals, vars, help, ... are not defined.
* Time: a ``sys.settrace`` hook checks a wall-clock deadline (default 1 s) on every line,
  loop iteration and call in script code (lambdas, generators, comprehensions included).
  Host helpers are never interrupted. Tracing cannot stop one long C-level operation, so:
* Size: operations that could allocate without bound in one step are checked before they
  run: ``** * << +`` on ints/sequences, range(), str.join/replace/ljust/..., str() and
  f-strings of big or self-similar containers, Decimal() of long literals, f-string widths
  (10**6 items, 10 MB strings, 65536-bit ints). Gradual growth (a loop building big
  strings) hits a 64 MB budget, measured with tracemalloc on each traced line.
* Data: a script runs on a deep copy of task data; only on success does the copy (minus
  functions, helpers and guards) replace task.data. Values must stay JSON-plain (str, int,
  float, bool, None, list, tuple, dict with str keys): keep amounts as strings
  (``amount = str(total)``), dates as ISO strings, or ``del`` the temporary.

Why not a subprocess with rlimits: expressions run per gateway and per DMN rule and call
host helpers that need the app context; forking a web worker per expression is slow and
fragile. Residual risk: one C-level operation over a pathological structure (comparing or
str() of a huge self-similar nested list) cannot be interrupted in-process; worker
timeouts (gunicorn --timeout, rq job timeout) are the backstop.
"""
from __future__ import annotations

import ast
import copy
import functools
import json
import math
import operator
import re
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Callable, Literal

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (full_write_guard, guarded_iter_unpack_sequence,
                                     guarded_unpack_sequence, safer_getattr_raise)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

__all__ = ['ScriptError', 'Limits', 'RestrictedEnvironment', 'WuyeScriptEngine', 'check_compiles']

FILENAME = '<bpmn-script>'  # marks script frames for the tracer and error line numbers


class ScriptError(Exception):
    """A script was refused or failed. Bilingual message; the caller adds the task name."""

    def __init__(self, message: str, lineno: int | None = None):
        super().__init__(f'{message}（第 {lineno} 行 / line {lineno}）' if lineno else message)
        self.lineno = lineno


@dataclass(frozen=True)
class Limits:
    timeout: float = 1.0                # wall-clock seconds per script or expression
    max_items: int = 10**6              # elements of one list/tuple/range
    max_rendered: int = 10**5           # elements in str()/f-string of a container; task data
    max_str: int = 10 * 1024 * 1024     # characters (bytes) of one string
    max_int_bits: int = 1 << 16         # bits of one integer
    max_memory: int = 64 * 1024 * 1024  # bytes allocated while the script runs
    max_format_width: int = 1000        # any number in an f-string format spec


def _too_big(what: str) -> ScriptError:
    return ScriptError(f'结果过大，已拒绝 / result too large, refused: {what}')


# ---------------------------------------------------------------- compile-time policy
_GUARDED_OPS = {ast.Add: '+', ast.Mult: '*', ast.Pow: '**', ast.LShift: '<<', ast.Mod: '%'}


def _call(name: str, args: list, like: ast.AST) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    return ast.fix_missing_locations(ast.copy_location(node, like))


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus size guards and a few extra refusals."""

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        op = _GUARDED_OPS.get(type(node.op))
        return _call('_binop_', [ast.Constant(op), node.left, node.right], node) if op else node

    def visit_JoinedStr(self, node):  # f'a{v!r:>{w}}' -> _fjoin_(['a', _format_(v, 114, _fjoin_(..))])
        node = self.node_contents_visit(node)
        parts = [_call('_format_', [v.value, ast.Constant(v.conversion), v.format_spec or ast.Constant('')], v)
                 if isinstance(v, ast.FormattedValue) else v for v in node.values]
        return _call('_fjoin_', [ast.List(parts, ast.Load())], node)

    def visit_While(self, node):
        # A one-line ``while 1: pass`` is a jump onto itself, which emits no trace event;
        # a call in the body makes every iteration visible to the time limit.
        node = self.node_contents_visit(node)
        tick = ast.copy_location(ast.Expr(_call('_tick_', [], node)), node)
        node.body.insert(0, ast.fix_missing_locations(tick))
        return node

    def visit_Name(self, node):
        if node.id in ('print', 'printed'):
            self.error(node, 'print() 不可用，请把结果赋给变量 / print is not available, assign a variable')
        return super().visit_Name(node)

    def _refuse(self, node):
        kind = type(node).__name__
        self.error(node, f'不允许使用 {kind} 语句 / {kind} statements are not allowed')

    visit_Import = visit_ImportFrom = visit_Try = visit_TryStar = visit_With = visit_ClassDef = _refuse


@functools.lru_cache(maxsize=2048)
def _compile(source: str, mode: str):
    compiler = compile_restricted_eval if mode == 'eval' else compile_restricted_exec
    result = compiler(source, filename=FILENAME, policy=_Policy)
    return result.code, tuple(result.errors)


def check_compiles(source: str, mode: Literal['exec', 'eval'] = 'exec') -> list[str]:
    """Deploy-time lint: problems from compiling under the sandbox policy (empty if ok)."""
    if mode not in ('exec', 'eval'):
        raise ValueError(f'mode must be exec or eval, not {mode!r}')
    return list(_compile(source.strip() if mode == 'eval' else source, mode)[1])


# ---------------------------------------------------------------- run-time guards
_STR_REFUSED = frozenset({'format', 'format_map', 'translate', 'expandtabs'})
_STR_SIZED = frozenset({'join', 'replace', 'ljust', 'rjust', 'center', 'zfill'})
_INPLACE = {'+=': '+', '*=': '*', '**=': '**', '<<=': '<<', '%=': '%', '-=': operator.sub,
            '/=': operator.truediv, '//=': operator.floordiv, '>>=': operator.rshift,
            '|=': operator.or_, '^=': operator.xor, '&=': operator.and_}
_SAFE_TYPES = (str, int, float, bool, list, dict, set, tuple, range, Decimal, date, datetime, timedelta,
               type(None))


def _check_rendered(value, lim: Limits, what: str) -> None:
    """Refuse to render a value whose text would be huge, e.g. ``[10 MB string] * 10**6``.

    Counts visits rather than objects, so shared sub-lists count every time, as in str().
    """
    items, chars, stack = 0, 0, [value]
    while stack:
        v = stack.pop()
        items += 1
        if isinstance(v, (str, bytes)):
            chars += len(v) + 4
        elif isinstance(v, (list, tuple, set, frozenset)):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        else:
            chars += v.bit_length() // 3 + 4 if isinstance(v, int) else 48
        if items > lim.max_rendered or chars > lim.max_str:
            raise _too_big(what)


@functools.lru_cache(maxsize=16)
def _make_builtins(lim: Limits) -> tuple[dict[str, Any], dict[str, Any]]:
    """Whitelisted builtins and RestrictedPython guards, with size checks bound to ``lim``.
    Built once per Limits value (callers copy, never change them): every case load makes a
    script engine, and building these costs more than a workflow step."""

    def check_len(n: int, what: str, text: bool):
        if n > (lim.max_str if text else lim.max_items):
            raise _too_big(what)

    def check_decimal(value, what: str):
        if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) > 4300:
            raise _too_big(what)

    def binop(op: str, a, b):
        if op == '%' and isinstance(a, (str, bytes)):
            raise ScriptError('不支持 % 格式化，请用 f-string / %-formatting is not allowed, use f-strings')
        seq = (str, bytes, list, tuple)
        if op == '+' and isinstance(a, seq) and isinstance(b, seq):
            check_len(len(a) + len(b), 'a + b', isinstance(a, (str, bytes)))
        elif op == '*':
            s, n = (b, a) if isinstance(b, seq) else (a, b)
            if isinstance(s, seq) and isinstance(n, int):
                check_len(len(s) * max(n, 0), 'sequence * n', isinstance(s, (str, bytes)))
            elif isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > lim.max_int_bits:
                raise _too_big('a * b')
        elif isinstance(a, int) and isinstance(b, int) and b > 0:
            if op == '**' and abs(a) > 1 and (a.bit_length() - 1) * b > lim.max_int_bits:
                raise _too_big('a ** b')
            if op == '<<' and a and a.bit_length() + b > lim.max_int_bits:
                raise _too_big('a << b')
        return {'+': operator.add, '*': operator.mul, '**': operator.pow, '<<': operator.lshift,
                '%': operator.mod}[op](a, b)

    def inplacevar(op: str, a, b):
        fn = _INPLACE.get(op)
        if fn is None:
            raise ScriptError(f'不支持的运算 / operator not allowed: {op}')
        return binop(fn, a, b) if isinstance(fn, str) else fn(a, b)

    def format_value(value, conversion: int, spec: str):
        if any(int(n) > lim.max_format_width for n in re.findall(r'\d+', spec)):
            raise _too_big(f'format spec {spec!r}')
        check_decimal(value, 'formatting a huge Decimal')
        _check_rendered(value, lim, 'f-string value')
        return format({115: str, 114: repr, 97: ascii}.get(conversion, lambda v: v)(value), spec)

    def fjoin(parts: list):
        check_len(sum(len(p) for p in parts), 'f-string', True)
        return ''.join(parts)

    def str_(*args):
        if args and not isinstance(args[0], (str, bytes)):
            _check_rendered(args[0], lim, 'str()')
        return str(*args)

    def sized_str_method(s, name: str):
        method, text = getattr(s, name), isinstance(s, str)

        def guarded(*args):
            if name == 'join':
                items = list(args[0])
                size = sum(len(i) for i in items if isinstance(i, (str, bytes)))
                check_len(size + len(s) * max(len(items) - 1, 0), 'join', text)
                args = (items,)
            elif name == 'replace' and len(args) >= 2:
                old, new = args[0], args[1]
                n = s.count(old) if len(old) else len(s) + 1
                n = min(n, args[2]) if len(args) > 2 and args[2] >= 0 else n
                check_len(len(s) + n * (len(new) - len(old)), 'replace', text)
            elif name != 'replace' and args and isinstance(args[0], int):
                check_len(args[0], name, text)
            return method(*args)
        return guarded

    def getattr_(obj, name: str):
        if isinstance(obj, (str, bytes)) or obj is str or obj is bytes:
            if name in _STR_REFUSED or (name in _STR_SIZED and isinstance(obj, type)):
                raise ScriptError(f'不允许使用 str.{name} / str.{name} is not allowed here')
            if name in _STR_SIZED:
                return sized_str_method(obj, name)
        try:
            return safer_getattr_raise(obj, name)
        except NotImplementedError as exc:
            raise ScriptError(f'不允许访问属性 / attribute not allowed: {name} ({exc})') from None

    def range_(*args):
        r = range(*args)
        try:
            check_len(len(r), 'range()', False)
        except OverflowError:
            raise _too_big('range()') from None
        return r

    def decimal_(value='0'):
        # Decimal math is bounded by the 28-digit context, but ln/log10/** of a long literal
        # coefficient are superlinear: cap what the constructor accepts.
        if isinstance(value, str) and len(value) > 200:
            raise _too_big('Decimal() of a long string')
        d = Decimal(value)
        if d.is_finite() and (len(d.as_tuple().digits) > 100 or abs(d.adjusted()) > 4300):
            raise _too_big('Decimal() with more than 100 digits')
        return d

    def int_(value=0, *base):
        check_decimal(value, 'int() of a huge Decimal')
        return int(value, *base)

    def round_(value, *ndigits):
        check_decimal(value, 'round() of a huge Decimal')
        return round(value, *ndigits)

    def sum_(iterable, start=0):
        if not isinstance(start, (int, float, Decimal, timedelta)):
            raise ScriptError('sum() 只能用于数字 / sum() only adds numbers')
        return sum(iterable, start)

    def isinstance_(obj, types):
        real = {int_: int, range_: range, decimal_: Decimal, str_: str}
        types = tuple(real.get(t, t) for t in (types if isinstance(types, tuple) else (types,)))
        if not all(t in _SAFE_TYPES for t in types):
            raise ScriptError('isinstance() 只支持基本类型 / isinstance() only accepts basic types')
        return isinstance(obj, types)

    names = dict(len=len, min=min, max=max, abs=abs, str=str_, float=float, bool=bool, list=list, dict=dict,
                 set=set, tuple=tuple, sorted=sorted, reversed=reversed, enumerate=enumerate, zip=zip,
                 any=any, all=all, divmod=divmod, int=int_, range=range_, round=round_, sum=sum_,
                 isinstance=isinstance_, Decimal=decimal_, date=date, datetime=datetime, timedelta=timedelta)
    guards = {'_getattr_': getattr_, '_getitem_': operator.getitem, '_getiter_': iter,
              '_write_': full_write_guard, '_inplacevar_': inplacevar, '_binop_': binop,
              '_format_': format_value, '_fjoin_': fjoin, '_tick_': lambda: None,
              '_apply_': lambda f, *a, **kw: f(*a, **kw), '_unpack_sequence_': guarded_unpack_sequence,
              '_iter_unpack_sequence_': guarded_iter_unpack_sequence}
    return names, guards


# tracemalloc is process-wide: started for the first running script, stopped after the last.
_memory_lock = threading.Lock()
_memory_users = 0
_memory_owned = False


def _memory_tracking(start: bool) -> None:
    global _memory_users, _memory_owned
    with _memory_lock:
        if start and _memory_users == 0:
            _memory_owned = not tracemalloc.is_tracing()
            if _memory_owned:
                tracemalloc.start()
        _memory_users += 1 if start else -1
        if not start and _memory_users == 0 and _memory_owned:
            tracemalloc.stop()


def _script_line(tb) -> int | None:
    line = None
    while tb is not None:
        line = tb.tb_lineno if tb.tb_frame.f_code.co_filename == FILENAME else line
        tb = tb.tb_next
    return line


# ---------------------------------------------------------------- SpiffWorkflow integration
class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Script environment that compiles and runs every script and expression in the sandbox.

    ``helpers`` (e.g. ``{'working_days': fn, 'now': fn}``) are trusted host callables, called
    by name; they should take and return plain values. Task data shadows same-named helpers.
    """

    def __init__(self, helpers: dict[str, Callable] | None = None, limits: Limits | None = None):
        helpers = dict(helpers or {})
        bad = [name for name in helpers if not name.isidentifier() or name.startswith('_')]
        if bad:
            raise ValueError(f'invalid helper names: {bad}')
        super().__init__(helpers)
        self.limits = limits or Limits()
        names, self._guards = _make_builtins(self.limits)
        self._builtins = {**names, **helpers}

    def evaluate(self, expression, context, external_context=None):
        result = self._run(expression.strip(), 'eval', self._globals(context, external_context or {}))
        if callable(result) or isinstance(result, Iterator):  # would run later, outside the limits
            raise ScriptError('表达式必须得出一个值 / an expression must produce a value, '
                              'not a function or iterator')
        return result

    def execute(self, script, context, external_context=None):
        external_context = external_context or {}
        glb = self._globals(copy.deepcopy(self._public(context)), external_context)
        self._run(script, 'exec', glb)
        result = {k: v for k, v in glb.items()
                  if not k.startswith('_') and k not in external_context and not callable(v)}
        self._check_storable(result)
        private = {k: v for k, v in context.items() if k.startswith('_')}  # scripts can't name these
        context.clear()
        context.update(result, **private)
        return True

    @staticmethod
    def _public(data: dict) -> dict:
        return {k: v for k, v in data.items() if not k.startswith('_')}

    def _globals(self, data: dict, external: dict) -> dict:
        return {**self._public(external), **self._public(data), **self._guards, '__builtins__': self._builtins}

    def _run(self, source: str, mode: str, glb: dict):
        code, errors = _compile(source, mode)
        if errors:
            raise ScriptError('脚本不符合安全规则 / script rejected by the sandbox: ' + '; '.join(errors))
        lim, deadline = self.limits, time.monotonic() + self.limits.timeout
        _memory_tracking(start=True)
        base = tracemalloc.get_traced_memory()[0]

        def tracer(frame, event, arg):
            if frame.f_code.co_filename != FILENAME:
                return None  # host helpers and guards run untraced and uninterrupted
            if event not in ('call', 'line'):
                return tracer  # don't replace an exception that is already propagating
            if time.monotonic() > deadline:
                raise ScriptError(f'脚本运行超时（超过 {lim.timeout:g} 秒）/ '
                                  f'script exceeded the time limit ({lim.timeout:g} s)')
            if tracemalloc.get_traced_memory()[0] - base > lim.max_memory:
                raise ScriptError('脚本占用内存过多 / script used too much memory')
            return tracer

        previous = sys.gettrace()
        sys.settrace(tracer)
        try:
            return eval(code, glb) if mode == 'eval' else exec(code, glb)
        except ScriptError as exc:
            raise ScriptError(exc.args[0], exc.lineno or _script_line(exc.__traceback__)) from None
        except Exception as exc:
            message = {RecursionError: '递归层数过深 / recursion too deep',
                       MemoryError: '内存不足 / out of memory'}.get(type(exc))
            if isinstance(exc, NameError) and exc.name:
                message = f'名称未定义或不允许使用 / name not defined or not allowed: {exc.name!r}'
            raise ScriptError(message or f'脚本出错 / script error: {type(exc).__name__}: {exc}',
                              _script_line(exc.__traceback__)) from exc
        finally:
            sys.settrace(previous)
            _memory_tracking(start=False)

    def _check_storable(self, data: dict) -> None:
        """Task data must survive the JSON serializer unchanged: plain values, str keys, bounded."""
        _check_rendered(data, self.limits, 'task data')  # bounds the serializer's output
        stack = [(name, value, 0) for name, value in data.items()]
        while stack:
            name, value, depth = stack.pop()
            if depth > 100:
                raise _too_big(f'task data nested too deeply ({name})')
            if value is None or isinstance(value, (str, bool)) or (
                    isinstance(value, int) and value.bit_length() <= 10_000) or (
                    isinstance(value, float) and math.isfinite(value)):
                continue
            if isinstance(value, (list, tuple)):
                stack.extend((name, v, depth + 1) for v in value)
            elif isinstance(value, dict) and all(isinstance(k, str) for k in value):
                stack.extend((name, v, depth + 1) for v in value.values())
            else:
                raise ScriptError(
                    f'变量 {name} 含有不能保存到流程数据的值（{type(value).__name__}），请转换（str(x)、'
                    f'x.isoformat()）或用 del 删除 / variable {name!r} holds a {type(value).__name__}, '
                    f'which task data cannot store: convert it (str(x), x.isoformat()) or del it')


def _task_error(task, err: ScriptError, source: str) -> WorkflowTaskException:
    lines = source.splitlines()
    line = lines[err.lineno - 1] if err.lineno and err.lineno <= len(lines) else ''
    return WorkflowTaskException(str(err), task=task, exception=err, line_number=err.lineno, error_line=line)


class WuyeScriptEngine(PythonScriptEngine):
    """PythonScriptEngine that only runs code in a RestrictedEnvironment.

    Errors surface as SpiffWorkflow's WorkflowTaskException (task, line number) whose
    ``__cause__`` is the ScriptError. Service tasks call ``service_caller(task,
    operation_name, params)`` with plain parameter values; it returns a JSON-serializable dict.
    """

    def __init__(self, environment: RestrictedEnvironment | None = None,
                 service_caller: Callable[[Any, str, dict], dict] | None = None):
        environment = environment or RestrictedEnvironment()
        if not isinstance(environment, RestrictedEnvironment):
            raise TypeError('WuyeScriptEngine needs a RestrictedEnvironment')
        super().__init__(environment=environment)
        self.service_caller = service_caller

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ScriptError as err:
            raise _task_error(task, err, expression) from err

    def execute(self, task, script, external_context=None):
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except ScriptError as err:
            raise _task_error(task, err, script) from err

    def call_service(self, task, operation_name, operation_params, **kwargs):
        if self.service_caller is None:
            raise WorkflowTaskException('未配置服务调用 / no service caller configured', task=task)
        params = {name: param['value'] for name, param in operation_params.items()}
        return json.dumps(self.service_caller(task, operation_name, params))
