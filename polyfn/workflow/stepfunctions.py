"""Compile a polyfn workflow to a Step Functions definition, runnable as is.

* ``polyfn:function:NAME`` becomes the function's Lambda ARN as the Task's ``Resource``
  (the direct Lambda integration). Chosen over ``arn:aws:states:::lambda:invoke``
  because its semantics are the local ones: the Task's input is the event, the handler's
  return value is the result (no ``Payload`` envelope to unwrap, scalars included), and a
  raised exception's class name is the error Retry and Catch match.
* ``polyfn:send:QUEUE`` becomes ``arn:aws:states:::sqs:sendMessage`` with ``QueueUrl`` and
  the input (or the Task's ``Parameters``) as ``MessageBody``.
* ``polyfn:publish:TOPIC`` becomes ``arn:aws:states:::sns:publish`` with ``TopicArn`` and
  the input (or ``Parameters``) as ``Message``.

Other resources are left alone; Parallel branches and Map processors are compiled too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from .builder import FUNCTION, PUBLISH, SEND, Workflow


def compile(
    definition: Workflow | dict | str,
    *,
    region: str = "us-east-1",
    account: str = "123456789012",
    prefix: str = "",
    function_arn: Callable[[str], str] | None = None,
    queue_url: Callable[[str], str] | None = None,
    topic_arn: Callable[[str], str] | None = None,
) -> dict:
    """The Step Functions ASL of ``definition`` with polyfn resources resolved."""
    if isinstance(definition, Workflow):
        asl = definition.to_asl()
    else:
        asl = Workflow.from_asl(definition).to_asl()
    fa = function_arn or (lambda n: f"arn:aws:lambda:{region}:{account}:function:{prefix}{n}")
    qu = queue_url or (lambda q: f"https://sqs.{region}.amazonaws.com/{account}/{prefix}{q}")
    ta = topic_arn or (lambda t: f"arn:aws:sns:{region}:{account}:{prefix}{t}")
    _machine(asl, fa, qu, ta)
    return asl


def to_json(definition: Workflow | dict | str, **kw: Any) -> str:
    return json.dumps(compile(definition, **kw), indent=2)


def _body(state: dict, key: str) -> dict:
    params = state.pop("Parameters", None)
    return {key: copy.deepcopy(params)} if params is not None else {f"{key}.$": "$"}


def _machine(asl: dict, fa, qu, ta) -> None:
    for st in asl.get("States", {}).values():
        res = st.get("Resource")
        if st.get("Type") == "Task" and isinstance(res, str):
            if res.startswith(FUNCTION):
                st["Resource"] = fa(res[len(FUNCTION) :])
            elif res.startswith(SEND):
                st["Resource"] = "arn:aws:states:::sqs:sendMessage"
                st["Parameters"] = {"QueueUrl": qu(res[len(SEND) :]), **_body(st, "MessageBody")}
            elif res.startswith(PUBLISH):
                st["Resource"] = "arn:aws:states:::sns:publish"
                st["Parameters"] = {"TopicArn": ta(res[len(PUBLISH) :]), **_body(st, "Message")}
        for b in st.get("Branches", []):
            _machine(b, fa, qu, ta)
        sub = st.get("ItemProcessor") or st.get("Iterator")
        if sub is not None:
            _machine(sub, fa, qu, ta)


def pure_skeleton(definition: Workflow | dict | str, results: dict[str, Any]) -> dict:
    """The definition with every Task replaced by a Pass state whose ``Result`` is
    ``results[state name]`` (Retry dropped, Catch kept out): the control flow alone, to
    run on an interpreter without the functions (moto's, for instance)."""
    asl = definition.to_asl() if isinstance(definition, Workflow) else copy.deepcopy(definition)
    _skeleton(asl, results)
    return asl


def _skeleton(asl: dict, results: dict) -> None:
    for name, st in asl.get("States", {}).items():
        if st.get("Type") == "Task":
            keep = {k: st[k] for k in ("Next", "End", "ResultPath", "InputPath") if k in st}
            st.clear()
            st.update(Type="Pass", Result=copy.deepcopy(results.get(name, {})), **keep)
        for b in st.get("Branches", []):
            _skeleton(b, results)
        sub = st.get("ItemProcessor") or st.get("Iterator")
        if sub is not None:
            _skeleton(sub, results)
