"""Observability: structured logs, traces and metrics, the same way on every provider.

Each module is imported on first use (``ctx.metrics``, ``ctx.trace``, ...); this package
imports nothing, so that a handler that observes nothing pays nothing.
"""


def from_env(provider: str) -> None:
    """What each adapter's entry point calls when the app is loaded: JSON logs when
    ``POLYFN_LOG_FORMAT=json``, OpenTelemetry spans when ``POLYFN_OTEL=1``. The modules
    are imported only then."""
    import os

    if os.environ.get("POLYFN_LOG_FORMAT"):
        from polyfn.observe.logs import configure_from_env

        configure_from_env(provider)
    if os.environ.get("POLYFN_OTEL", "").lower() in ("1", "true", "yes"):
        from polyfn.observe.otel import enable_tracing

        enable_tracing()
