"""Pydantic support for neutral events, imported only when asked for."""

from __future__ import annotations

import functools
import typing
from typing import Any

import pydantic
from pydantic_core import core_schema

from polyfn.events._base import NeutralEvent

_COMMON: dict[str, Any] = {
    "provider": (str, "local"),
    "event_source": (str, "local"),
    "extensions": (dict[str, Any], pydantic.Field(default_factory=dict)),
}


@functools.cache
def mirror_model(cls: type[NeutralEvent]) -> type[pydantic.BaseModel]:
    hints = typing.get_type_hints(cls)
    defaults = getattr(cls, "defaults", {})
    fields: dict[str, Any] = {}
    for name in cls.fields:
        default = defaults.get(name, ...)
        if callable(default):
            default = pydantic.Field(default_factory=default)
        fields[name] = (hints[name], default)
    fields.update(_COMMON)
    config = pydantic.ConfigDict(arbitrary_types_allowed=True)
    return pydantic.create_model(cls.__name__ + "Model", __config__=config, **fields)


def _fields_of(model: pydantic.BaseModel) -> dict[str, Any]:
    # Not dict(model): a field named "keys" (ChangeEvent) makes dict() treat the model as
    # a mapping and call it.
    return {name: getattr(model, name) for name in type(model).model_fields}


def validate_event(cls: type[Any], data: Any) -> Any:
    if isinstance(data, cls):
        return data
    return cls(**_fields_of(mirror_model(cls).model_validate(data)))


@functools.cache
def adapter_for(tp: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(tp)


def event_core_schema(cls: type[NeutralEvent]) -> core_schema.CoreSchema:
    model = mirror_model(cls)
    from_model = core_schema.no_info_after_validator_function(
        lambda m: cls(**_fields_of(m)), model.__pydantic_core_schema__
    )
    return core_schema.union_schema(
        [core_schema.is_instance_schema(cls), from_model],
        serialization=core_schema.plain_serializer_function_ser_schema(
            lambda e: model(**e.to_dict()).model_dump()
        ),
    )
