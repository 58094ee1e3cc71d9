"""JSON Schemas (draft 2020-12) for Python types and models.

:func:`schema_of` gives a self-contained schema: named parts (models,
dataclasses, TypedDicts) sit under ``$defs`` at the root and are referenced
as ``#/$defs/Name``. pydantic models use their own ``model_json_schema()``;
dataclasses and TypedDicts go through ``pydantic.TypeAdapter`` when pydantic
is installed, and through this module's generator otherwise.
"""

from __future__ import annotations

import collections.abc
import copy
import dataclasses
import datetime
import decimal
import enum
import json
import re
import types
import typing
import uuid
from typing import Any

__all__ = ["schema_of", "type_schema", "is_model", "is_structured", "pydantic"]

NoneType = type(None)

# A Decimal arrives as a JSON number, or as text (a query value, or a string
# in a body) that must look like one.
DECIMAL_PATTERN = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"

_DATETIME_FORMATS: dict[type, str] = {datetime.datetime: "date-time", datetime.date: "date", datetime.time: "time"}


def pydantic() -> Any:
    """The pydantic module, or None when it is not installed (imported on
    first use only: it costs startup time)."""
    global _pydantic
    if _pydantic is _UNSET:
        module: Any
        try:
            import pydantic as module
        except ImportError:
            module = None
        _pydantic = module
    return _pydantic


_UNSET: Any = object()
_pydantic: Any = _UNSET


def is_model(tp: Any) -> bool:
    """A pydantic v2 model class."""
    return isinstance(tp, type) and hasattr(tp, "model_json_schema") and hasattr(tp, "model_validate")


def is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def is_structured(tp: Any) -> bool:
    """A type that describes a JSON object with fields: a pydantic model, a
    dataclass or a TypedDict."""
    return is_model(tp) or is_dataclass_type(tp) or is_typeddict(tp)


def unwrap(tp: Any) -> Any:
    """``Annotated[X, ...]`` → X."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def without_none(tp: Any) -> tuple[Any, bool]:
    """``Optional[X]`` → (X, True); anything else → (it, False)."""
    tp = unwrap(tp)
    if is_union(tp):
        args = [arg for arg in typing.get_args(tp) if arg is not NoneType]
        if len(args) < len(typing.get_args(tp)):
            return (args[0] if len(args) == 1 else typing.Union[tuple(args)]), True
    return tp, False


def type_name(tp: Any) -> str:
    """A readable name of an annotation for error messages."""
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__qualname__
    return repr(tp).replace("typing.", "")


def schema_of(value: Any, *, mode: str = "validation") -> dict[str, Any]:
    """A self-contained JSON Schema for ``value``: a JSON Schema dict (copied),
    a pydantic model, a dataclass, a TypedDict or a type annotation.
    TypeError for anything else. ``mode`` is pydantic's: "validation" (what
    is accepted) or "serialization" (what is produced)."""
    if isinstance(value, dict):
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"the schema is not JSON: {exc}") from None
        return copy.deepcopy(value)
    if is_model(value):
        return value.model_json_schema(mode=mode)  # type: ignore[no-any-return]
    if is_dataclass_type(value) or is_typeddict(value):
        adapted = _adapter_schema(value, mode)
        if adapted is not None:
            return adapted
    if isinstance(value, (str, bytes, int, float, list, tuple)) or value is None:
        raise TypeError(f"expected a JSON Schema dict, a pydantic model, a dataclass or a TypedDict, not {value!r}")
    return type_schema(value)


def _adapter_schema(tp: type, mode: str) -> dict[str, Any] | None:
    module = pydantic()
    if module is None:
        return None
    try:
        return module.TypeAdapter(tp).json_schema(mode=mode)  # type: ignore[no-any-return]
    except module.PydanticUserError:
        # typing.TypedDict before 3.12, for one: pydantic wants typing_extensions'.
        return None


def type_schema(tp: Any, *, text: bool = False) -> dict[str, Any]:
    """The JSON Schema of a type annotation; TypeError when unsupported.
    ``text``: for a path, query or header value, where a Decimal is text
    (so that Go passes its digits as they are, not as a float)."""
    generator = _Generator(text)
    schema = generator.schema(tp)
    ref = schema.get("$ref")
    if ref is not None and len(schema) == 1:
        name = ref.rpartition("/")[2]
        # Inline the root unless something refers back to it (recursion).
        if f'"#/$defs/{name}"' not in json.dumps(generator.defs[name]) and not any(
            f'"#/$defs/{name}"' in json.dumps(other) for key, other in generator.defs.items() if key != name
        ):
            schema = generator.defs.pop(name)
    if generator.defs:
        schema = {**schema, "$defs": generator.defs}
    return schema


class _Generator:
    """Builds a schema, collecting named parts into :attr:`defs`."""

    def __init__(self, text: bool = False) -> None:
        self.text = text
        self.defs: dict[str, dict[str, Any]] = {}
        self.names: dict[str, Any] = {}  # def name -> the type it names

    def schema(self, tp: Any) -> dict[str, Any]:
        tp = unwrap(tp)
        if tp is Any or tp is object:
            return {}
        if tp is None or tp is NoneType:
            return {"type": "null"}
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            return {"type": "integer"}
        if tp is float:
            return {"type": "number"}
        if tp is str:
            return {"type": "string"}
        if tp is uuid.UUID:
            return {"type": "string", "format": "uuid"}
        if tp in _DATETIME_FORMATS:
            return {"type": "string", "format": _DATETIME_FORMATS[tp]}
        if tp is decimal.Decimal:
            if self.text:
                return {"type": "string", "pattern": DECIMAL_PATTERN}
            return {"anyOf": [{"type": "number"}, {"type": "string", "pattern": DECIMAL_PATTERN}]}
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            values = [member.value for member in tp]
            return {"title": tp.__name__, "type": json_type(values, tp), "enum": values}
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is typing.Literal:
            return literal_schema(tp)
        if is_union(tp):
            inner, optional = without_none(tp)
            if optional and not is_union(inner):
                return {"anyOf": [self.schema(inner), {"type": "null"}]}
            return {"anyOf": [self.schema(arg) for arg in args]}
        if tp in (list, set, frozenset, tuple) or origin in (list, set, frozenset, collections.abc.Sequence, collections.abc.Set):
            schema: dict[str, Any] = {"type": "array"}
            if args:
                schema["items"] = self.schema(args[0])
            if origin in (set, frozenset, collections.abc.Set) or tp in (set, frozenset):
                schema["uniqueItems"] = True
            return schema
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return {"type": "array", "items": self.schema(args[0])}
            if args == ((),):
                return {"type": "array", "maxItems": 0}
            return {"type": "array", "prefixItems": [self.schema(arg) for arg in args],
                    "minItems": len(args), "maxItems": len(args)}
        if tp is dict or origin in (dict, collections.abc.Mapping):
            schema = {"type": "object"}
            if args:
                if unwrap(args[0]) is not str:
                    raise TypeError(f"unsupported type {type_name(tp)}: JSON object keys are strings")
                if unwrap(args[1]) not in (Any, object):
                    schema["additionalProperties"] = self.schema(args[1])
            return schema
        if is_model(tp):
            return self.model(tp)
        if is_dataclass_type(tp) or is_typeddict(tp):
            return self.fields(tp)
        raise TypeError(f"unsupported type {type_name(tp)}")

    def name_for(self, tp: type) -> tuple[str, bool]:
        """The def name of ``tp``, and whether it is already (being) defined."""
        base = sanitize(tp.__name__)
        name, n = base, 1
        while name in self.names and self.names[name] is not tp:
            n += 1
            name = f"{base}{n}"
        known = name in self.names
        self.names[name] = tp
        return name, known

    def model(self, tp: type) -> dict[str, Any]:
        name, known = self.name_for(tp)
        if not known:
            schema = tp.model_json_schema(ref_template="#/$defs/{model}")  # type: ignore[attr-defined]
            for key, part in schema.pop("$defs", {}).items():
                self.defs.setdefault(key, part)
            if schema.get("$ref") != f"#/$defs/{name}":
                self.defs[name] = schema
        return {"$ref": f"#/$defs/{name}"}

    def fields(self, tp: type) -> dict[str, Any]:
        name, known = self.name_for(tp)
        if known:
            return {"$ref": f"#/$defs/{name}"}
        self.defs[name] = {}  # a placeholder while the fields are generated
        try:
            hints = typing.get_type_hints(tp, include_extras=True)
        except Exception as exc:
            raise TypeError(f"cannot resolve the annotations of {tp.__qualname__}: {exc}") from None
        if is_dataclass_type(tp):
            names = [field.name for field in dataclasses.fields(tp) if field.init]
            required = [
                field.name for field in dataclasses.fields(tp)
                if field.init and field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
            ]
        else:
            names = list(hints)
            required = [key for key in names if key in tp.__required_keys__]  # type: ignore[attr-defined]
        properties = {}
        for key in names:
            try:
                properties[key] = self.schema(hints[key])
            except TypeError as exc:
                raise TypeError(f"field {tp.__qualname__}.{key}: {exc}") from None
        schema: dict[str, Any] = {"title": tp.__name__, "type": "object", "properties": properties}
        if required:
            schema["required"] = required
        self.defs[name] = schema
        return {"$ref": f"#/$defs/{name}"}


def literal_schema(tp: Any) -> dict[str, Any]:
    values: list[Any] = []
    for value in _literal_values(tp):
        values.append(value.value if isinstance(value, enum.Enum) else value)
    has_none = None in values
    values = [value for value in values if value is not None]
    if not values:
        return {"type": "null"}
    schema: dict[str, Any] = {"type": json_type(values, tp)}
    if len(values) == 1:
        schema["const"] = values[0]
    else:
        schema["enum"] = values
    if has_none:
        return {"anyOf": [schema, {"type": "null"}]}
    return schema


def _literal_values(tp: Any) -> list[Any]:
    values: list[Any] = []
    for arg in typing.get_args(tp):
        if typing.get_origin(arg) is typing.Literal:
            values.extend(_literal_values(arg))
        else:
            values.append(arg)
    return values


def json_type(values: list[Any], tp: Any) -> str:
    """The one JSON type of all ``values`` (of an Enum or a Literal)."""
    kinds = set()
    for value in values:
        if isinstance(value, bool):
            kinds.add("boolean")
        elif isinstance(value, int):
            kinds.add("integer")
        elif isinstance(value, float):
            kinds.add("number")
        elif isinstance(value, str):
            kinds.add("string")
        else:
            raise TypeError(f"unsupported type {type_name(tp)}: value {value!r} is not a str, int, float or bool")
    if kinds == {"integer", "number"}:
        return "number"
    if len(kinds) != 1:
        raise TypeError(f"unsupported type {type_name(tp)}: its values mix JSON types ({', '.join(sorted(kinds))})")
    return kinds.pop()


_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def sanitize(name: str) -> str:
    """A name fit for a ``$defs`` key and an OpenAPI component name."""
    return _NAME_CHARS.sub("_", name) or "_"
