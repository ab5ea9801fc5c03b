"""How the local runtime hands broker messages to an app's functions.

- ``consumers``: which broker queue feeds each trigger (queues and streams are read where
  they are; topic subscriptions and the storage, change, schedule and event-bus events of
  the outbox get a queue per function, so every trigger has retries and a dead letter),
  how many messages one receive takes, and the neutral event of each message;
- ``base``: what a provider path implements, and the per-message verdict helpers;
- ``neutral``: the neutral path (``polyfn.dispatch``), used without ``--as``;
- ``aws``, ``azure``, ``gcp``: each delivery rendered as that provider's native payload
  (``to_native``) and run through its adapter's inbound path, the verdict mapped back.

:func:`make_path` builds the path of a provider; the adapters are imported only then.
"""

from __future__ import annotations

from typing import Any

from polyfn.app import App
from polyfn.outputs import OutputDriver, Outputs

from .base import DeliveryPath, Failure, Failures
from .consumers import Consumer

PROVIDERS = (None, "aws", "azure", "gcp")

__all__ = ["PROVIDERS", "Consumer", "DeliveryPath", "Failure", "Failures", "make_path"]


def make_path(
    provider: str | None,
    app: App,
    driver: OutputDriver,
    *,
    options: Any = None,
    content: Any = None,
) -> DeliveryPath:
    """The delivery path of ``provider`` (None: neutral) for ``app``, its outputs going
    to ``driver``. ``options``: the adapter's options (``AzureOptions``, ``GcpOptions``);
    ``content(bucket, key)``: an object's bytes, for triggers that deliver them (Azure's
    blob trigger)."""
    outputs = Outputs(driver)
    if provider is None:
        from .neutral import NeutralPath

        return NeutralPath(app, outputs)
    if provider == "aws":
        from .aws import AwsPath

        return AwsPath(app, outputs)
    if provider == "azure":
        from .azure import AzurePath

        return AzurePath(app, outputs, driver, options=options, content=content)
    if provider == "gcp":
        from .gcp import GcpPath

        return GcpPath(app, outputs, options=options)
    raise ValueError(f"provider {provider!r}: one of aws, azure, gcp, or None (neutral)")
