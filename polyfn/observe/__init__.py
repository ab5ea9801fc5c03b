"""Observability: structured logs, traces and metrics, the same way on every provider.

Each module is imported on first use (``ctx.metrics``, ``ctx.trace``, ...); this package
imports nothing, so that a handler that observes nothing pays nothing.
"""


def logs_from_env(provider: str) -> None:
    """JSON logs when ``POLYFN_LOG_FORMAT=json`` (what each adapter's entry point calls);
    polyfn.observe.logs is imported only then."""
    import os

    if os.environ.get("POLYFN_LOG_FORMAT"):
        from polyfn.observe.logs import configure_from_env

        configure_from_env(provider)
