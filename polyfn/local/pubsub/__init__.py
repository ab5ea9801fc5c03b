"""A Pub/Sub emulator speaking the gRPC API google-cloud-pubsub uses (PUBSUB_EMULATOR_HOST).

Imported only when started: it needs grpcio and google-cloud-pubsub's protos
(``polyfn[gcp]``), which the core never imports; ``from polyfn.local.pubsub import
PubSubEmulator`` loads them then.

    with PubSubEmulator() as emulator:          # 127.0.0.1, a free port
        os.environ["PUBSUB_EMULATOR_HOST"] = emulator.address
        ...                                      # the unchanged google-cloud-pubsub client

or ``python -m polyfn.local.pubsub --port 8085``. What it implements: topics (create, get,
list, delete, publish, list subscriptions), subscriptions (create with push config, ack
deadline, dead-letter and retry policies, message ordering and attribute filters; get,
list, delete, modify push config), Pull, StreamingPull, Acknowledge and ModifyAckDeadline,
and push delivery to loopback URLs. State lives in memory; see ``broker`` for the delivery
rules and ``push`` for the push request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import PubSubEmulator

__all__ = ["PubSubEmulator"]


def __getattr__(name: str) -> Any:
    if name == "PubSubEmulator":
        from .server import PubSubEmulator

        return PubSubEmulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
