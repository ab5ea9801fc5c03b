"""Reliability patterns for handlers, the same on every provider: idempotency, outputs
delivered after success, in-process retries, dead-letter routing, large payloads through
storage (claim check) and a circuit breaker, over a small shared state store (memory,
SQLite, DynamoDB, Azure Table storage, Firestore; ``App.store`` picks the provider's)."""

from typing import TYPE_CHECKING, Any

from polyfn.patterns.after_success import outputs_after_success
from polyfn.patterns.circuit_breaker import CircuitBreaker, CircuitOpen
from polyfn.patterns.dead_letter import dead_letter
from polyfn.patterns.idempotency import IdempotencyInProgress, idempotent
from polyfn.patterns.retry import RetryPolicy, retry
from polyfn.patterns.store import DynamoDBStore, Entry, MemoryStore, SqliteStore, StateStore

# Loaded on first use: their modules are not needed by the patterns above.
_LAZY = {
    "AzureTableStore": "polyfn.patterns.azure_table",
    "FirestoreStore": "polyfn.patterns.firestore",
    "StoreHandle": "polyfn.patterns.backends",
    "LargePayloadOutputs": "polyfn.patterns.claim_check",
    "large_payload_outputs": "polyfn.patterns.claim_check",
    "offload_large_payloads": "polyfn.patterns.claim_check",
    "resolve_large_payloads": "polyfn.patterns.claim_check",
}

if TYPE_CHECKING:
    from polyfn.patterns.azure_table import AzureTableStore
    from polyfn.patterns.backends import StoreHandle
    from polyfn.patterns.claim_check import (
        LargePayloadOutputs,
        large_payload_outputs,
        offload_large_payloads,
        resolve_large_payloads,
    )
    from polyfn.patterns.firestore import FirestoreStore

__all__ = [
    "AzureTableStore",
    "CircuitBreaker",
    "CircuitOpen",
    "DynamoDBStore",
    "Entry",
    "FirestoreStore",
    "IdempotencyInProgress",
    "LargePayloadOutputs",
    "MemoryStore",
    "RetryPolicy",
    "SqliteStore",
    "StateStore",
    "StoreHandle",
    "dead_letter",
    "idempotent",
    "large_payload_outputs",
    "offload_large_payloads",
    "outputs_after_success",
    "resolve_large_payloads",
    "retry",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'polyfn.patterns' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
