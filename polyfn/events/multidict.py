"""Multi-valued mappings for HTTP headers and query strings."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

Pairs = Mapping[str, "str | list[str]"] | Iterable[tuple[str, str]] | None


class MultiDict(MutableMapping[str, str]):
    """A mapping whose keys may repeat; ``d[k]`` is the last value, ``get_all(k)`` all."""

    __slots__ = ("_d",)

    def __init__(self, data: Pairs = None) -> None:
        self._d: dict[str, tuple[str, list[str]]] = {}
        if data is None:
            return
        items = data.items() if isinstance(data, Mapping) else data
        for name, value in items:
            if isinstance(value, list | tuple):
                for v in value:
                    self.add(name, v)
            else:
                self.add(name, value)

    @staticmethod
    def _key(name: str) -> str:
        return name

    def add(self, name: str, value: str) -> None:
        """Append a value, keeping the ones already there."""
        key = self._key(name)
        entry = self._d.get(key)
        if entry is None:
            self._d[key] = (name, [value])
        else:
            entry[1].append(value)

    def get_all(self, name: str) -> list[str]:
        entry = self._d.get(self._key(name))
        return list(entry[1]) if entry else []

    def multi_items(self) -> list[tuple[str, str]]:
        """Every (name, value) pair, names as first given."""
        return [(name, v) for name, values in self._d.values() for v in values]

    def to_multi(self) -> dict[str, list[str]]:
        return {name: list(values) for name, values in self._d.values()}

    def __getitem__(self, name: str) -> str:
        return self._d[self._key(name)][1][-1]

    def __setitem__(self, name: str, value: str) -> None:
        self._d[self._key(name)] = (name, [value])

    def __delitem__(self, name: str) -> None:
        del self._d[self._key(name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._key(name) in self._d

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._d.values())

    def __len__(self) -> int:
        return len(self._d)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return sorted(self._norm()) == sorted(other._norm())
        if isinstance(other, Mapping):
            return self == type(self)(other)
        return NotImplemented

    def _norm(self) -> list[tuple[str, list[str]]]:
        return [(k, v[1]) for k, v in self._d.items()]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.multi_items()!r})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_plain_validator_function(
            lambda v: v if isinstance(v, cls) else cls(v),
            serialization=core_schema.plain_serializer_function_ser_schema(lambda m: m.to_multi()),
        )


class Headers(MultiDict):
    """HTTP headers: case-insensitive names; ``h[name]`` joins repeated values with ", "."""

    __slots__ = ()

    @staticmethod
    def _key(name: str) -> str:
        return name.lower()

    def __getitem__(self, name: str) -> str:
        return ", ".join(self._d[name.lower()][1])


class QueryParams(MultiDict):
    """Query string parameters; ``q[name]`` is the last value, as API Gateway v1 gives it."""

    __slots__ = ()
