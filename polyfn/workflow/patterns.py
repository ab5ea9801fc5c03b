"""Workflow patterns on top of the builder: sagas and fan-out/fan-in."""

from __future__ import annotations

from typing import Any

from .builder import Catch, Fail, Map, State, Task, Workflow


def saga(
    steps: list[tuple[Task, Task | None]],
    *,
    fail: Fail,
    errors: list[str] | str = "States.ALL",
    result_path: str = "$.error",
    next: str,
) -> list[State]:
    """The states of a saga: each ``(action, compensation)`` runs in order; when action
    *i* fails (after its own Retry), a Catch records the error at ``result_path`` and runs
    the compensations of the actions that completed (those before *i*) in reverse order,
    then ``fail``. ``next`` names the state after the last action.

    The compensations form one chain, ``comp[n-2] → … → comp[0] → fail``; the Catch of
    action *i* enters it at the nearest compensation before *i*.
    """
    if not steps:
        raise ValueError("saga: needs at least one step")
    actions = [a for a, _ in steps]
    comps = [c for _, c in steps]
    # chain of compensations in reverse (the last action's own compensation never runs:
    # nothing after it can fail inside the saga)
    chain: list[Task] = [c for c in reversed(comps[:-1]) if c is not None]
    for i, c in enumerate(chain):
        c.next = chain[i + 1].name if i + 1 < len(chain) else fail.name
    for i, action in enumerate(actions):
        done = [c.name for c in comps[:i] if c is not None]
        target = done[-1] if done else fail.name
        action.catch = [*action.catch, Catch(errors, next=target, result_path=result_path)]
        if i + 1 < len(actions):
            action.next = actions[i + 1].name
    actions[-1].next = next
    return [*actions, *chain, fail]


def fan_out(
    name: str,
    iterator: Workflow | list,
    *,
    items_path: str = "$",
    max_concurrency: int = 0,
    item_selector: dict | None = None,
    result_path: str | None = None,
    next: str | None = None,
    **kw: Any,
) -> Map:
    """Fan out over the array at ``items_path`` running ``iterator`` on each item (at most
    ``max_concurrency`` at once; 0 is unbounded) and fan the results back in as an array
    at ``result_path``."""
    return Map(
        name,
        iterator,
        items_path=items_path,
        max_concurrency=max_concurrency,
        item_selector=item_selector,
        result_path=result_path,
        next=next,
        **kw,
    )
