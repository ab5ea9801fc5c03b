"""Reliability patterns for handlers: idempotency and a circuit breaker, over a small
shared state store (memory or SQLite)."""

from polyfn.patterns.circuit_breaker import CircuitBreaker, CircuitOpen
from polyfn.patterns.idempotency import IdempotencyInProgress, idempotent
from polyfn.patterns.store import DynamoDBStore, Entry, MemoryStore, SqliteStore, StateStore

__all__ = [
    "CircuitBreaker",
    "CircuitOpen",
    "DynamoDBStore",
    "Entry",
    "IdempotencyInProgress",
    "MemoryStore",
    "SqliteStore",
    "StateStore",
    "idempotent",
]
