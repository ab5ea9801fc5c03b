"""Through the Lambda handler: ``handler(app, name)(event, context)``."""

from __future__ import annotations

import time
import uuid
from typing import Any

from polyfn.errors import PolyfnError
from polyfn.local.invoke import Call, InvokeError, Outcome, fail, http_failed

# The event source a trigger's events come from by default, where not the kind's usual
# one: an ordered stream is Kinesis.
_DEFAULT_SOURCE = {"stream": "kinesis"}


class LambdaContext:
    """What the Lambda runtime passes as ``context``: the attributes handlers read."""

    function_version = "$LATEST"
    memory_limit_in_mb = 128
    identity = None
    client_context = None

    def __init__(self, function_name: str, timeout: float = 900.0) -> None:
        from polyfn.adapters.aws import defaults

        self.function_name = function_name
        self.invoked_function_arn = (
            f"arn:aws:lambda:{defaults.region()}:{defaults.ACCOUNT}:function:{function_name}"
        )
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self._epoch_deadline_time_in_ms = int((time.time() + timeout) * 1000)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._epoch_deadline_time_in_ms - int(time.time() * 1000))


def run(call: Call) -> Outcome:
    from polyfn.adapters.aws import handler
    from polyfn.adapters.aws.translate import source_of
    from polyfn.local.invoke.native import aws

    if call.native is not None:
        event = call.native
    else:
        event = aws.render(call.events, call.source or _DEFAULT_SOURCE.get(call.trigger.KIND))
    try:
        source = source_of(event)
    except PolyfnError as e:
        raise InvokeError(f"not a Lambda event: {e}") from None
    outcome = Outcome(f"aws {source}")
    lambda_handler = handler(call.app, call.function.name, outputs=call.outputs)
    try:
        outcome.result = lambda_handler(event, LambdaContext(call.function.name))
    except Exception as e:  # the invocation failed: Lambda retries or dead-letters it
        fail(outcome, e)
        return outcome
    outcome.errors.extend(_verdict(outcome.result))
    return outcome


def _verdict(answer: Any) -> list[str]:
    if not isinstance(answer, dict):
        return []
    failed = answer.get("batchItemFailures")
    if failed:
        ids = ", ".join(str(f.get("itemIdentifier")) for f in failed)
        return [f"batchItemFailures: {ids} (redelivered, then dead-lettered)"]
    status = answer.get("statusCode")
    problem = http_failed(int(status)) if isinstance(status, int | str) else None
    return [problem] if problem else []
