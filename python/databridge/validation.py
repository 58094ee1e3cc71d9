"""From a handler's signature to the route spec the engine validates with.

At registration, :func:`plan_route` reads the handler's parameters and the
route's ``body=`` and ``validator=`` options and makes

- the *route spec* (docs/route-spec.md): the JSON document the engine
  compiles once, then checks and converts every request with, answering
  422 itself when anything is wrong, before Python runs;
- the *endpoint* the engine calls, ``endpoint(request, **kwargs)`` with the
  converted parameters: it finishes what Go cannot (builds the body model,
  which also runs pydantic-only rules such as ``field_validator``; turns
  values into Enum members, datetimes and Decimals), then calls the
  handler. When there is nothing to finish, the endpoint is the handler.

A handler that takes only ``request`` gets no spec and runs as before.

A websocket route has no route spec: :func:`plan_websocket` plans its
endpoint and dependencies with the same rules, and its parameters are read
and checked here, in Python, once per session.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import decimal
import enum
import functools
import inspect
import json
import math
import operator
import re
import typing
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from . import _core
from ._runtime import wraps_endpoint
from ._schema import (
    NoneType,
    is_dataclass_type,
    is_model,
    is_structured,
    is_typeddict,
    is_union,
    pydantic,
    schema_of,
    type_name,
    type_schema,
    unwrap,
    without_none,
)
from .background import BackgroundTasks, after_response
from .dependencies import Dependant, DependsMarker, all_sync, kind_of, solve, solve_sync
from .params import File, Form, Param, Path, RequestValidator
from .requests import Request
from .uploads import UploadFile
from .uploads import open_all as open_uploads
from .responses import Response, jsonable
from .websockets import WebSocket

__all__ = [
    "Plan", "ParamSpec", "BodySpec", "PathParam", "WebSocketPlan", "plan_route", "plan_websocket", "parse_path",
    "validation_error",
]

Handler = Callable[..., Any]
Converter = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True)
class PathParam:
    """A parameter of a route path: ``<int:item_id>`` → ("item_id", "int", None)."""

    name: str
    kind: str  # str, int, float, uuid or path
    regexp: str | None  # the regexp of a {name:regexp} parameter


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """One keyword argument of the handler that comes from the request."""

    name: str
    location: str  # path, query or header
    alias: str  # the name on the wire
    required: bool
    schema: dict[str, Any]
    description: str | None = None


@dataclasses.dataclass(frozen=True)
class BodySpec:
    """The JSON body: its schema, and the type the handler gets it as."""

    schema: dict[str, Any]
    required: bool
    source: Any  # the model, dataclass, TypedDict, type or dict it came from
    param: str | None  # the handler argument that receives it


@dataclasses.dataclass(frozen=True)
class Plan:
    """What registration worked out for one route."""

    path_params: tuple[PathParam, ...]
    params: tuple[ParamSpec, ...]
    body: BodySpec | None
    validator: RequestValidator | None
    spec: str | None  # the route spec JSON for the engine, None for none
    endpoint: Handler  # what the engine calls
    body_mode: str = "buffer"  # how the engine reads the body: buffer, stream (a Request reads it), spool (UploadFile)
    uploads: tuple[tuple[str, str], ...] = ()  # UploadFile (and File() bytes) parameters: (name, kind)
    forms: tuple[ParamSpec, ...] = ()  # Form() parameters, read in Python from the parsed form


# -- paths ------------------------------------------------------------------

def parse_path(path: str) -> tuple[list[PathParam], str]:
    """The parameters of a route path, and its OpenAPI template (every
    parameter as ``{name}``), as the engine's router parses it."""
    template, params = _core.parse_path(path)
    return [PathParam(name, kind, regexp) for name, kind, regexp in params], template


_KIND_SCHEMAS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "path": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
}


def path_param_schema(param: PathParam) -> dict[str, Any]:
    """The schema a path parameter has by its converter alone."""
    schema = dict(_KIND_SCHEMAS[param.kind])
    if param.regexp is not None:
        schema["pattern"] = f"^(?:{param.regexp})$"
    return schema


# -- the 422 body -----------------------------------------------------------


class ValidationErrorResponse(Response):
    """The 422 made in Python (conversions Go leaves to Python): an exception
    handler for RequestValidationError or 422 replaces it."""

    __slots__ = ()


def validation_error(details: list[dict[str, Any]]) -> Response:
    """The 422 response, in the shape the engine answers with."""
    return ValidationErrorResponse({"error": "validation failed", "details": details}, status=422)


def _detail(loc: list[Any], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": kind}


# -- conversions Go leaves to Python ---------------------------------------


class _ConversionError(ValueError):
    def __init__(self, kind: str, msg: str) -> None:
        super().__init__(msg)
        self.kind = kind
        self.msg = msg


def _parse_datetime(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    try:
        text = str(value)
        if text[-1:] in ("Z", "z"):  # RFC 3339; fromisoformat takes it only from 3.11
            text = text[:-1] + "+00:00"
        return datetime.datetime.fromisoformat(text)
    except ValueError as exc:
        raise _ConversionError("datetime_from_date_parsing", f"Input should be a valid datetime, {exc}") from None


def _parse_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError as exc:
        raise _ConversionError("date_from_datetime_parsing", f"Input should be a valid date, {exc}") from None


def _parse_time(value: Any) -> datetime.time:
    if isinstance(value, datetime.time):
        return value
    try:
        text = str(value)
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        return datetime.time.fromisoformat(text)
    except ValueError as exc:
        raise _ConversionError("time_parsing", f"Input should be in a valid time format, {exc}") from None


def _parse_decimal(value: Any) -> decimal.Decimal:
    if isinstance(value, decimal.Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _ConversionError("decimal_type", "Decimal input should be an integer, float, string or Decimal object")
    try:
        # str() of a float is its shortest repr: 0.1 gives Decimal("0.1").
        result = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        raise _ConversionError("decimal_parsing", "Input should be a valid decimal") from None
    if not result.is_finite():
        raise _ConversionError("finite_number", "Input should be a finite number")
    return result


def _enum_converter(cls: type[enum.Enum]) -> Converter:
    members = {member.value: member for member in cls}  # a lookup is ~5x faster than cls(value)

    def convert(value: Any) -> enum.Enum:
        try:
            return members[value]
        except (KeyError, TypeError):
            expected = ", ".join(repr(member.value) for member in cls)
            raise _ConversionError("enum", f"Input should be {expected}") from None

    return convert


def _converter(tp: Any) -> Converter | None:
    """What turns the plain value Go passes into a ``tp``; None when Go's
    value already is one."""
    tp = unwrap(tp)
    if is_union(tp):
        inner, optional = without_none(tp)
        convert = _converter(inner) if optional and not is_union(inner) else None
        if convert is None:
            return None
        return lambda value: None if value is None else convert(value)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp in (set, frozenset, tuple) or origin in (list, set, frozenset, tuple):
        item = _converter(args[0]) if args else None
        container = origin or tp
        if item is None:
            return None if container is list else container
        if container is list:
            return lambda values: [item(value) for value in values]
        return lambda values: container(item(value) for value in values)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_converter(tp)
    if tp is datetime.datetime:
        return _parse_datetime
    if tp is datetime.date:
        return _parse_date
    if tp is datetime.time:
        return _parse_time
    if tp is decimal.Decimal:
        return _parse_decimal
    return None


# -- parameters -------------------------------------------------------------

_SCALARS = (bool, int, float, str, uuid.UUID, datetime.datetime, datetime.date, datetime.time, decimal.Decimal)
_SUPPORTED = "int, float, bool, str, Optional[...], list[...] (query only), Literal, an Enum, UUID, datetime, date, time or Decimal"


def _is_scalar(tp: Any) -> bool:
    tp = unwrap(tp)
    if tp in _SCALARS or tp is Any:
        return True
    if typing.get_origin(tp) is typing.Literal:
        return True
    return isinstance(tp, type) and issubclass(tp, enum.Enum)


def _param_type_ok(tp: Any, location: str) -> bool:
    """Whether a ``location`` parameter can have type ``tp``."""
    tp, _ = without_none(tp)
    if _is_scalar(tp):
        return True
    if location not in ("query", "form"):
        return False
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp in (list, set, frozenset) or origin in (list, set, frozenset):
        return not args or _is_scalar(without_none(args[0])[0])
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _is_scalar(args[0])
    return False


def _target(schema: dict[str, Any]) -> dict[str, Any]:
    """The part of a parameter schema bounds apply to: the non-null branch
    of an Optional."""
    branches = schema.get("anyOf")
    if branches and len(branches) == 2 and {"type": "null"} in branches:
        return next(branch for branch in branches if branch != {"type": "null"})
    return schema


def _json_value(value: Any) -> Any:
    """``value`` as plain JSON, or raise TypeError."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    return _json_value(jsonable(value))


class _RouteError:
    """Builds registration errors that name the route."""

    def __init__(self, method: str | None, path: str) -> None:
        """``method`` None: a websocket route."""
        self.where = f'databridge: route "{method} {path}"' if method is not None else f'databridge: websocket route "{path}"'

    def __call__(self, message: str, exc: type[Exception] = TypeError) -> Exception:
        return exc(f"{self.where}: {message}")


def _param_spec(
    name: str,
    location: str,
    tp: Any,
    marker: Param | None,
    default: Any,
    path_param: PathParam | None,
    error: _RouteError,
) -> tuple[ParamSpec, Converter | None]:
    """The spec of one parameter and its Python-side converter."""
    what = f'parameter "{name}"'
    if not _param_type_ok(tp, location):
        raise error(f"{what} has type {type_name(tp)}, which a {location} parameter cannot have (use {_SUPPORTED})")
    if path_param is not None:
        kind_schema = path_param_schema(path_param)
        if tp is Any:
            schema = kind_schema
        else:
            schema = type_schema(tp, text=True)
            inner, optional = without_none(tp)
            wants = _target(schema).get("type")
            gives = {"int": "integer", "float": "number"}.get(path_param.kind)
            if optional:
                raise error(f"{what} is a path parameter, which is always present: it cannot be Optional")
            if gives is not None and wants != gives:
                article = "an" if path_param.kind == "int" else "a"
                raise error(f"{what} has type {type_name(tp)}, but the path converter <{path_param.kind}:{name}> gives {article} {path_param.kind}")
            if path_param.kind == "uuid" and inner is not uuid.UUID:
                raise error(f"{what} has type {type_name(tp)}, but the path converter <uuid:{name}> gives a UUID")
            if path_param.regexp is not None:
                schema["pattern"] = kind_schema["pattern"]
    else:
        schema = {"type": "string"} if tp is Any else type_schema(tp, text=True)
    alias = name
    if marker is not None and marker.alias is not None:
        alias = marker.alias
    elif location == "header":
        alias = name.replace("_", "-")
    required = default is inspect.Parameter.empty
    if path_param is not None:
        required = True
    elif not required:
        try:
            schema["default"] = _json_value(default)
        except TypeError:
            if marker is not None:
                raise error(f"{what}: the default {default!r} must be JSON-encodable") from None
    if marker is not None:
        _apply_marker(schema, marker, what, error)
    return (
        ParamSpec(name, location, alias, required, schema, marker.description if marker is not None else None),
        _converter(tp),
    )


def _apply_marker(schema: dict[str, Any], marker: Param, what: str, error: _RouteError) -> None:
    target = _target(schema)
    kind = target.get("type")
    items = target.get("items", {}) if kind == "array" else target
    bounds = {"minimum": marker.ge, "exclusiveMinimum": marker.gt, "maximum": marker.le, "exclusiveMaximum": marker.lt}
    bounds = {key: value for key, value in bounds.items() if value is not None}
    if bounds:
        if items.get("type") not in ("integer", "number"):
            raise error(f"{what}: ge, gt, le and lt apply to numbers, not to {type_name_of_schema(items)}")
        items.update(bounds)
    lengths = {"min_length": marker.min_length, "max_length": marker.max_length}
    lengths = {key: value for key, value in lengths.items() if value is not None}
    if lengths:
        if kind == "array":
            target.update({{"min_length": "minItems", "max_length": "maxItems"}[key]: value for key, value in lengths.items()})
        elif kind == "string" and "format" not in target and "enum" not in target:
            target.update({{"min_length": "minLength", "max_length": "maxLength"}[key]: value for key, value in lengths.items()})
        else:
            raise error(f"{what}: min_length and max_length apply to str and list parameters")
    if marker.pattern is not None:
        if items.get("type") != "string" or "format" in items or "enum" in items:
            raise error(f"{what}: pattern applies to str parameters")
        try:
            re.compile(marker.pattern)
        except re.error as exc:
            raise error(f"{what}: invalid pattern {marker.pattern!r}: {exc}") from None
        items["pattern"] = marker.pattern
    for key in ("title", "description", "examples"):
        value = getattr(marker, key)
        if value is not None:
            schema[key] = value if key != "examples" else _json_value(value)


def type_name_of_schema(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    return {"string": "strings", "boolean": "booleans", "array": "lists"}.get(kind, "this type") if isinstance(kind, str) else "this type"


# -- the body ---------------------------------------------------------------


def _is_plain_json(tp: Any) -> bool:
    """Whether a body value of type ``tp`` needs no building: JSON as Go
    parsed it already is one."""
    tp = unwrap(tp)
    if tp in (Any, object, dict, list, str, int, float, bool, NoneType, None) or is_typeddict(tp):
        return True
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if is_union(tp) or origin in (dict, list):
        return all(_is_plain_json(arg) for arg in args)
    return False


def _body_builder(tp: Any, error: _RouteError) -> Callable[[Any], Any] | None:
    """What builds the handler's value from the parsed JSON body; None for
    the JSON itself. Builders raise pydantic's ValidationError or
    _ConversionError."""
    if is_model(tp):
        return _model_builder(tp)
    if _is_plain_json(tp):
        return None
    module = pydantic()
    if module is not None:
        try:
            return module.TypeAdapter(tp).validate_python  # type: ignore[no-any-return]
        except module.PydanticUserError:
            pass
    if is_dataclass_type(tp):
        return _construct(tp)
    raise error(f"the body type {type_name(tp)} needs pydantic to be built (pip install pydantic)")


def _model_builder(model: Any) -> Callable[[Any], Any]:
    """``model.model_validate``, or what it calls (pydantic-core's validator,
    ~0.4 µs less per request) when the model does not override it."""
    validator = getattr(model, "__pydantic_validator__", None)
    module = pydantic()
    validate = getattr(validator, "validate_python", None)
    if (
        validate is not None
        and module is not None
        and getattr(model.model_validate, "__func__", None) is module.BaseModel.model_validate.__func__
    ):
        return validate  # type: ignore[no-any-return]
    return model.model_validate  # type: ignore[no-any-return]


def _construct(cls: type) -> Callable[[Any], Any]:
    """``cls(**data)``: dataclasses without pydantic."""

    def build(data: Any) -> Any:
        if not isinstance(data, dict):
            raise _ConversionError("dataclass_type", f"Input should be a dictionary or an instance of {cls.__name__}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise _ConversionError("value_error", str(exc)) from None

    return build


def _body_errors(exc: Exception) -> list[dict[str, Any]]:
    if isinstance(exc, _ConversionError):
        return [_detail(["body"], exc.msg, exc.kind)]
    return [
        _detail(["body", *error["loc"]], error["msg"], error["type"])
        for error in exc.errors(include_url=False, include_context=False, include_input=False)  # type: ignore[attr-defined]
    ]


def _body_exceptions() -> tuple[type[Exception], ...]:
    module = pydantic()
    if module is None:
        return (_ConversionError,)
    return (_ConversionError, module.ValidationError)


# -- the plan ---------------------------------------------------------------


def plan_route(
    method: str,
    path: str,
    handler: Handler,
    is_async: bool,
    body: Any = None,
    validator: RequestValidator | None = None,
    dependencies: tuple[Any, ...] = (),
) -> Plan:
    """Work out the spec and the endpoint of a route (``path`` is the full,
    valid path); ``dependencies`` are the route's ``Depends(...)`` (app's,
    routers', its own) run before the handler's. Raises TypeError for a parameter that cannot be served,
    naming the route and the parameter."""
    error = _RouteError(method, path)
    path_params, _ = parse_path(path)
    by_name = {param.name: param for param in path_params}
    if validator is not None and not isinstance(validator, RequestValidator):
        raise error(f"validator must be a RequestValidator, not {type(validator).__name__}")
    body_type = body
    if validator is not None and validator.body is not None:
        if body is not None:
            raise error("pass the body schema either as body= or as RequestValidator(body=...), not both")
        body_type = validator.body
    body_schema: dict[str, Any] | None = None
    if body_type is not None:
        try:
            body_schema = schema_of(body_type)
        except TypeError as exc:
            raise error(f"body: {exc}") from None

    arguments = _arguments(handler, error)
    params: list[ParamSpec] = []
    converters: list[tuple[str, list[str], Converter]] = []
    seen: dict[str, ParamSpec] = {}
    root = Dependant(handler)
    body_param = _plan_arguments(arguments, by_name, path, error, params, converters, seen, root, None)
    extra = [_dependency(marker, None, by_name, path, error, params, converters, seen) for marker in dependencies]
    uploads: dict[str, str] = {}
    first_is_view = _first_is_view(handler)
    takes_view = first_is_view
    for dep in _walk(root, extra):
        takes_view = takes_view or bool(dep.request_view)
        for name, kind in dep.uploads:
            if uploads.setdefault(name, kind) != kind:
                raise error(f'parameter "{name}" is declared differently by the handler or another dependency (give one declaration, or rename one)')
            if name in seen:
                raise error(f'parameter "{name}" is both an UploadFile and a request parameter')
    form_specs = [spec for spec in params if spec.location == "form"]
    form_readers: tuple[tuple[str, list[str], Callable[[Any], Any]], ...] = ()
    if form_specs:
        params = [spec for spec in params if spec.location != "form"]
        form_convert = {name: function for name, loc, function in converters if loc[0] == "form"}
        converters = [c for c in converters if c[1][0] != "form"]
        form_readers = tuple((spec.name, ["body", spec.alias], _reader(spec, form_convert.get(spec.name))) for spec in form_specs)
    if (uploads or form_specs) and (body_param is not None or body_schema is not None):
        raise error("a route takes either a JSON body or Form/UploadFile parameters (a form body), not both")
    body_mode = "spool" if uploads else "buffer"
    if not uploads and takes_view and is_async and body_param is None and body_schema is None:
        body_mode = "stream"
    if first_is_view:
        handler = _with_view(handler, is_async)
    needs_solve = bool(extra or root.deps or root.background or root.request_view or uploads or form_specs)
    if body_param is not None:
        root.params.append(body_param[0])

    body_spec: BodySpec | None = None
    build: Callable[[Any], Any] | None = None
    if body_param is not None:
        name, tp, required = body_param
        value_type, _ = without_none(tp)
        if value_type is Any and body_type is not None and not isinstance(body_type, dict):
            value_type = body_type  # an unannotated `body` gets what body= names
        elif body_type is not None and not isinstance(body_type, dict) and is_structured(value_type) and value_type is not body_type:
            raise error(f'body={type_name(body_type)} and the annotation {type_name(tp)} of parameter "{name}" disagree')
        if body_schema is None:
            try:
                body_schema = {} if value_type is Any else schema_of(value_type)
            except TypeError as exc:
                raise error(f'parameter "{name}" takes the body, but {exc}') from None
        build = _body_builder(value_type, error)
        body_spec = BodySpec(body_schema, required, body_type if body_type is not None else value_type, name)
    elif body_schema is not None:
        body_spec = BodySpec(body_schema, True, body_type, None)

    solver = (root, extra) if needs_solve else None
    upload_specs = tuple(uploads.items())
    forms = tuple(form_specs)
    if not params and body_spec is None and validator is None:
        endpoint = handler if solver is None else _endpoint(handler, is_async, [], None, None, False, solver, upload_specs, form_readers)
        return Plan(tuple(path_params), (), None, None, None, endpoint, body_mode, upload_specs, forms)
    spec_json = _spec_json(params, body_spec, validator, error)
    endpoint = _endpoint(
        handler, is_async, converters, body_spec.param if body_spec else None, build, bool(body_spec and body_spec.required), solver,
        upload_specs, form_readers,
    )
    return Plan(tuple(path_params), tuple(params), body_spec, validator, spec_json, endpoint, body_mode, upload_specs, forms)


def _first_is_view(handler: Handler) -> bool:
    """Whether the handler's first parameter (the request) is annotated
    :class:`Request`: FastAPI's ``async def h(request: Request)``."""
    try:
        first = next(iter(inspect.signature(handler).parameters.values()), None)
    except (TypeError, ValueError):
        return False
    if first is None or first.kind not in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
        return False
    annotation = first.annotation
    if isinstance(annotation, str):
        try:
            annotation = _type_hints(_annotated_function(handler)).get(first.name)
        except Exception:  # noqa: BLE001: an unresolvable hint is not a Request
            return False
    plain = unwrap(annotation)
    return _is_class(plain) and issubclass(plain, Request)


def _with_view(handler: Handler, is_async: bool) -> Handler:
    """``handler`` called with the :class:`Request` view of the request
    dict as its first argument."""
    if is_async:

        async def with_view(request: dict[str, Any], **kwargs: Any) -> Any:
            return await handler(Request(request, kwargs), **kwargs)

        return wraps_endpoint(with_view, handler)

    def with_view_sync(request: dict[str, Any], **kwargs: Any) -> Any:
        return handler(Request(request, kwargs), **kwargs)

    return wraps_endpoint(with_view_sync, handler)


def _is_class(tp: Any) -> bool:
    """A real class: on Python 3.10 ``list[int]`` passes ``isinstance(tp,
    type)`` and then fails ``issubclass``."""
    return isinstance(tp, type) and typing.get_origin(tp) is None


def _hoist_annotated(tp: Any) -> Any:
    """``Optional[Annotated[X, m]]`` → ``Annotated[Optional[X], m]``:
    Python 3.10's get_type_hints wraps an annotation whose default is None
    in Optional, outside its Annotated (3.11+ leaves it alone)."""
    args = typing.get_args(tp)
    if not is_union(tp) or not any(typing.get_origin(a) is typing.Annotated for a in args):
        return tp
    inner, extras = [], []
    for a in args:
        if typing.get_origin(a) is typing.Annotated:
            inner.append(typing.get_args(a)[0])
            extras.extend(a.__metadata__)
        else:
            inner.append(a)
    return typing.Annotated[(typing.Union[tuple(inner)], *extras)]


def _plan_arguments(
    arguments: dict[str, tuple[Any, Any]],
    by_name: dict[str, PathParam],
    path: str,
    error: _RouteError,
    params: list[ParamSpec],
    converters: list[tuple[str, list[str], Converter]],
    seen: dict[str, ParamSpec],
    dependant: Dependant,
    dependency: Callable[..., Any] | None,
    websocket: bool = False,
) -> tuple[str, Any, bool] | None:
    """Sort the arguments of the handler (``dependency`` None) or of a
    dependency into request parameters (appended to ``params``, shared by
    name), sub-dependencies and the special ones; return the body
    argument, if any. ``websocket``: of a websocket route, where a
    parameter annotated WebSocket gets the connection and there is no
    body, request dict, Request view or background tasks."""
    body_param: tuple[str, Any, bool] | None = None  # (name, annotation, required)
    of = "" if dependency is None else f" of dependency {_default_dependency_name(dependency)}"
    for name, (tp, default) in arguments.items():
        marker: Param | None = None
        depends: DependsMarker | None = default if isinstance(default, DependsMarker) else None
        for extra in typing.get_args(tp)[1:] if typing.get_origin(tp) is typing.Annotated else ():
            if isinstance(extra, DependsMarker):
                depends = extra
        if depends is not None:
            dependant.deps.append((name, _dependency(depends, unwrap(tp), by_name, path, error, params, converters, seen, websocket)))
            continue
        plain = unwrap(tp)
        if _is_class(plain) and issubclass(plain, WebSocket):
            if not websocket:
                raise error(f'parameter "{name}"{of} is annotated WebSocket, which only a websocket route has')
            dependant.connection.append(name)
            continue
        if _is_class(plain) and issubclass(plain, BackgroundTasks):
            if websocket:
                raise error(f'parameter "{name}"{of} is annotated BackgroundTasks: a websocket route has no background tasks')
            dependant.background.append(name)
            continue
        if _is_class(plain) and issubclass(plain, Request):
            if websocket:
                raise error(f'parameter "{name}"{of} is annotated Request: on a websocket route, annotate it WebSocket')
            dependant.request_view.append(name)
            continue
        file_marker = _file_marker(tp, default)
        upload = _upload_kind(plain, default, file_marker)
        if file_marker is not None and upload is None:
            raise error(f'parameter "{name}"{of} is marked File(): annotate it UploadFile, bytes or a list of either')
        if upload is not None:
            if websocket:
                raise error(f'parameter "{name}"{of} is an UploadFile: a websocket route has no body')
            dependant.uploads.append((name, upload))
            dependant.params.append(name)
            continue
        bare = without_none(plain)[0]  # 3.10 makes `request: dict = None` Optional[dict]
        if dependency is not None and name == "request" and (bare is Any or bare is dict or typing.get_origin(bare) is dict):
            if websocket:
                raise error(f'parameter "{name}"{of} would take the request dict: on a websocket route, annotate it WebSocket')
            dependant.connection.append(name)
            continue
        if isinstance(default, Param):
            marker, default = default, inspect.Parameter.empty if default.required else default.default
        for extra in typing.get_args(tp)[1:] if typing.get_origin(tp) is typing.Annotated else ():
            if isinstance(extra, Param):
                if marker is not None:
                    raise error(f'parameter "{name}"{of} has two of Query/Header/Path')
                if not extra.required:
                    if default is not inspect.Parameter.empty:
                        raise error(f'parameter "{name}"{of}: give the default either in Annotated[..., {type(extra).__name__}(...)] or after "=", not both')
                    default = extra.default
                marker = extra
        tp = plain
        if name in by_name:
            if marker is not None and not isinstance(marker, Path):
                raise error(f'parameter "{name}"{of} is a path parameter, not a {type(marker).__name__.lower()} parameter')
            if marker is not None and not marker.required:
                raise error(f'parameter "{name}"{of} is a path parameter, which cannot have a default')
            location = "path"
        elif isinstance(marker, Path):
            raise error(f'parameter "{name}"{of} is declared with Path(), but the path "{path}" has no parameter "{name}"')
        elif marker is not None:
            location = marker.location
            if is_structured(without_none(tp)[0]):
                raise error(f'parameter "{name}"{of} has type {type_name(tp)}: a model can only be the body, not a {location} parameter')
        elif is_structured(without_none(tp)[0]) or (name == "body" and not websocket):
            if websocket:
                raise error(f'parameter "{name}"{of} has type {type_name(tp)}: a websocket route has no body (receive the messages from the WebSocket)')
            if dependency is not None:
                raise error(f'parameter "{name}"{of} would take the body: a dependency cannot (take it in the handler)')
            if body_param is not None:
                raise error(f'parameters "{body_param[0]}" and "{name}" both take the body; a route has one body')
            body_param = (name, tp, default is inspect.Parameter.empty)
            continue
        else:
            location = "query"
        spec, convert = _param_spec(name, location, tp, marker, default, by_name.get(name), error)
        dependant.params.append(name)
        if name in seen:
            if seen[name] != spec:
                raise error(f'parameter "{name}"{of} is declared differently by the handler or another dependency (give one declaration, or rename one)')
            continue
        seen[name] = spec
        params.append(spec)
        if convert is not None:
            converters.append((name, [location, spec.alias], convert))
    return body_param


def _file_marker(tp: Any, default: Any) -> File | None:
    """The ``File()`` of a parameter, as its default or in Annotated."""
    if isinstance(default, File):
        return typing.cast(File, default)
    for extra in typing.get_args(tp)[1:] if typing.get_origin(tp) is typing.Annotated else ():
        if isinstance(extra, File):
            return typing.cast(File, extra)
    return None


def _upload_kind(tp: Any, default: Any, marker: File | None) -> str | None:
    """"one", "optional" or "list" for an ``UploadFile``, ``UploadFile |
    None`` (or a None default) or ``list[UploadFile]`` annotation, and
    "bytes"/"optional bytes"/"list bytes" for ``bytes`` ones marked
    ``File()``; None for anything else."""
    bare, optional = without_none(tp)
    if marker is not None:
        optional = optional or not marker.required
        default = None if not marker.required and marker.default is None else default
    kind = None
    if _is_class(bare) and issubclass(bare, UploadFile):
        kind = "optional" if optional or default is None else "one"
    elif typing.get_origin(bare) is list:
        args = typing.get_args(bare)
        if len(args) == 1 and _is_class(args[0]) and issubclass(args[0], UploadFile):
            kind = "list"
        elif marker is not None and args == (bytes,):
            kind = "list bytes"
    elif marker is not None and bare is bytes:
        kind = "optional bytes" if optional or default is None else "bytes"
    return kind


def _walk(root: Dependant, extra: list[Dependant]) -> Iterator[Dependant]:
    """Every dependant of a route, the root first."""
    pending = [root, *extra]
    while pending:
        dep = pending.pop()
        yield dep
        pending.extend(sub for _, sub in dep.deps)


def _default_dependency_name(fn: Callable[..., Any]) -> str:
    return str(getattr(fn, "__qualname__", None) or type(fn).__qualname__)


def _dependency(
    marker: DependsMarker,
    annotation: Any,
    by_name: dict[str, PathParam],
    path: str,
    error: _RouteError,
    params: list[ParamSpec],
    converters: list[tuple[str, list[str], Converter]],
    seen: dict[str, ParamSpec],
    websocket: bool = False,
) -> Dependant:
    """The plan of one ``Depends(...)``, its own parameters merged into
    ``params`` (``websocket``: see _plan_arguments)."""
    if not isinstance(marker, DependsMarker):
        raise error(f"dependencies must be Depends(...), not {marker!r}")
    call = marker.dependency
    if call is None:
        if annotation is None or annotation is Any or not callable(annotation):
            raise error("Depends() without a dependency needs a class annotation to call")
        call = annotation
    dependant = Dependant(call, use_cache=marker.use_cache, kind=kind_of(call))
    arguments = _dependency_arguments(call, error)
    _plan_arguments(arguments, by_name, path, error, params, converters, seen, dependant, call, websocket)
    return dependant


def _dependency_arguments(call: Callable[..., Any], error: _RouteError) -> dict[str, tuple[Any, Any]]:
    """A dependency's arguments: name -> (annotation, default)."""
    try:
        signature = inspect.signature(call)
    except (TypeError, ValueError):
        return {}
    parameters = [p for p in signature.parameters.values() if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    if not parameters:
        return {}
    for param in parameters:
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise error(f'dependency {_default_dependency_name(call)}: parameter "{param.name}" is positional-only; dependency parameters are passed by name')
    target: Any = call.__init__ if isinstance(call, type) else _annotated_function(call)  # type: ignore[misc]
    try:
        hints = _type_hints(target)
    except Exception as exc:
        raise error(f"cannot resolve the annotations of dependency {_default_dependency_name(call)}: {exc}") from None
    arguments: dict[str, tuple[Any, Any]] = {}
    for param in parameters:
        tp = hints.get(param.name, Any)
        if param.annotation is inspect.Parameter.empty and param.default not in (inspect.Parameter.empty, None) and not isinstance(param.default, (Param, DependsMarker)):
            if type(param.default) in (bool, int, float, str):
                tp = type(param.default)
        arguments[param.name] = (tp, param.default)
    return arguments


def _type_hints(target: Any) -> dict[str, Any]:
    """The annotations of ``target``'s parameters, the same on every Python
    version (see _hoist_annotated)."""
    return {name: _hoist_annotated(tp) for name, tp in typing.get_type_hints(target, include_extras=True).items()}


def _arguments(handler: Handler, error: _RouteError) -> dict[str, tuple[Any, Any]]:
    """The handler's arguments after the request: name → (annotation, default)."""
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):  # some builtins have none: request only
        return {}
    parameters = list(signature.parameters.values())
    if not parameters:
        return {}
    first = parameters[0]
    if first.kind is inspect.Parameter.VAR_POSITIONAL:
        rest = parameters[1:]
    elif first.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
        rest = parameters[1:]
    else:
        raise error("the handler must take the request as its first positional argument")
    rest = [p for p in rest if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    if not rest:
        return {}
    for param in rest:
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise error(f'parameter "{param.name}" is positional-only; handler parameters are passed by name')
    try:
        hints = _type_hints(_annotated_function(handler))
    except Exception as exc:
        raise error(f"cannot resolve the handler's annotations: {exc}") from None
    arguments: dict[str, tuple[Any, Any]] = {}
    for param in rest:
        tp = hints.get(param.name, Any)
        if param.annotation is inspect.Parameter.empty and param.default not in (inspect.Parameter.empty, None) and not isinstance(param.default, Param):
            # Unannotated with a default: the default's type, as in `page=1`.
            if type(param.default) in (bool, int, float, str):
                tp = type(param.default)
        arguments[param.name] = (tp, param.default)
    return arguments


def _annotated_function(handler: Handler) -> Any:
    """The function whose annotations describe ``handler``'s arguments."""
    while isinstance(handler, functools.partial):
        handler = handler.func
    if inspect.isfunction(handler) or inspect.ismethod(handler):
        return handler
    call = getattr(type(handler), "__call__", None)
    return call if call is not None else handler


def _spec_json(params: list[ParamSpec], body: BodySpec | None, validator: RequestValidator | None, error: _RouteError) -> str:
    entries = []
    for param in params:
        entry: dict[str, Any] = {"name": param.name, "in": param.location, "required": param.required, "schema": param.schema}
        if param.alias != param.name:
            entry["alias"] = param.alias
        entries.append(entry)
    schemas = validator.schemas if validator is not None else {}
    document = {
        "params": entries,
        "body": {"required": body.required, "schema": body.schema} if body is not None else None,
        "query": schemas.get("query"),
        "headers": schemas.get("headers"),
        "path": schemas.get("path"),
    }
    try:
        return json.dumps(document, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise error(f"a schema is not JSON: {exc}") from None


# -- the endpoint -----------------------------------------------------------


def _endpoint(
    handler: Handler,
    is_async: bool,
    converters: list[tuple[str, list[str], Converter]],
    body_name: str | None,
    build: Callable[[Any], Any] | None,
    body_required: bool,
    solver: tuple[Dependant, list[Dependant]] | None = None,
    uploads: tuple[tuple[str, str], ...] = (),
    forms: tuple[tuple[str, list[str], Callable[[Any], Any]], ...] = (),
) -> Handler:
    """The callable the engine calls with ``(request, **params)``."""
    if not converters and body_name is None and solver is None:
        return handler
    failures = _body_exceptions()
    conversions = tuple(converters)
    upload_names = {name for name, _ in uploads}

    def prepare(request: dict[str, Any], kwargs: dict[str, Any]) -> list[dict[str, Any]] | None:
        """Complete ``kwargs``; the 422 details when something is wrong."""
        details: list[dict[str, Any]] | None = None
        if uploads:
            files = open_uploads(request, upload_names)
            for name, kind in uploads:
                found = files.get(name) or []
                if kind.endswith("bytes"):
                    contents = [upload.file.read() for upload in found]
                    for upload in found:
                        upload.file.close()
                    found = contents  # type: ignore[assignment]
                if kind.startswith("list"):
                    kwargs[name] = found
                elif found:
                    kwargs[name] = found[0]
                elif kind.startswith("optional"):
                    kwargs[name] = None
                else:
                    details = details or []
                    details.append(_detail(["body", name], "Field required", "missing"))
        for name, loc, read in forms:
            try:
                value = read(request)
            except _ConversionError as exc:
                details = details or []
                details.append(_detail(loc, exc.msg, exc.kind))
                continue
            if value is not _ABSENT:
                kwargs[name] = value
        for name, loc, convert in conversions:
            if name in kwargs:
                try:
                    kwargs[name] = convert(kwargs[name])
                except _ConversionError as exc:
                    details = details or []
                    details.append(_detail(loc, exc.msg, exc.kind))
        if body_name is not None:
            data = request["body"]
            if data is None and not body_required:
                pass  # absent optional body: the handler's default applies
            elif build is None:
                kwargs[body_name] = data
            else:
                try:
                    kwargs[body_name] = build(data)
                except failures as exc:
                    details = details or []
                    details.extend(_body_errors(exc))
        return details

    if solver is not None and (is_async or not all_sync(*solver)):
        root, extra = solver

        async def endpoint(request: dict[str, Any], **kwargs: Any) -> Any:
            details = prepare(request, kwargs)
            if details:
                return validation_error(details)
            solved = await solve(root, extra, request, kwargs, BackgroundTasks)
            try:
                result = handler(request, **solved.kwargs)
                if inspect.isawaitable(result):
                    result = await result
            except BaseException as exc:
                if solved.stack is not None:
                    await solved.stack.__aexit__(type(exc), exc, exc.__traceback__)
                raise
            if solved.stack is not None or solved.background is not None:
                after_response(functools.partial(_after, solved))
            return result
    elif solver is not None:  # every dependency sync, and the handler: a sync endpoint
        root, extra = solver

        def endpoint(request: dict[str, Any], **kwargs: Any) -> Any:  # type: ignore[misc]
            details = prepare(request, kwargs)
            if details:
                return validation_error(details)
            solved = solve_sync(root, extra, request, kwargs, BackgroundTasks)
            try:
                result = handler(request, **solved.kwargs)
            except BaseException as exc:
                if solved.stack is not None:
                    solved.stack.__exit__(type(exc), exc, exc.__traceback__)
                raise
            if solved.stack is not None or solved.background is not None:
                after_response(functools.partial(_after_sync, solved))
            return result
    elif not conversions and build is not None:
        # The common case, a body model and nothing else: the shortest path.
        name = body_name
        if is_async:
            async def endpoint(request: dict[str, Any], **kwargs: Any) -> Any:
                data = request["body"]
                if data is not None or body_required:
                    try:
                        kwargs[name] = build(data)  # type: ignore[index]
                    except failures as exc:
                        return validation_error(_body_errors(exc))
                return await handler(request, **kwargs)
        else:
            def endpoint(request: dict[str, Any], **kwargs: Any) -> Any:  # type: ignore[misc]
                data = request["body"]
                if data is not None or body_required:
                    try:
                        kwargs[name] = build(data)  # type: ignore[index]
                    except failures as exc:
                        return validation_error(_body_errors(exc))
                return handler(request, **kwargs)
    elif is_async:
        async def endpoint(request: dict[str, Any], **kwargs: Any) -> Any:
            details = prepare(request, kwargs)
            if details:
                return validation_error(details)
            return await handler(request, **kwargs)
    else:
        def endpoint(request: dict[str, Any], **kwargs: Any) -> Any:  # type: ignore[misc]
            details = prepare(request, kwargs)
            if details:
                return validation_error(details)
            return handler(request, **kwargs)

    return wraps_endpoint(endpoint, handler)


async def _after_sync(solved: Any) -> None:
    """_after for solve_sync: the cleanup of sync generators."""
    try:
        if solved.background is not None:
            await solved.background()
    finally:
        if solved.stack is not None:
            solved.stack.close()


async def _after(solved: Any) -> None:
    """After the response: the background tasks, then the yield
    dependencies' cleanup."""
    try:
        if solved.background is not None:
            await solved.background()
    finally:
        if solved.stack is not None:
            await solved.stack.aclose()


# -- websocket routes -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WebSocketPlan:
    """What registration worked out for one websocket route: ``solver``,
    the endpoint's dependencies (the root, whose params are the endpoint's,
    and the route-level ones; None when there are none), and :attr:`read`,
    which reads a session's parameters from its WebSocket: the values by
    name, and the 422-style details of those that are missing or invalid."""

    path_params: tuple[PathParam, ...]
    params: tuple[ParamSpec, ...]
    solver: tuple[Dependant, list[Dependant]] | None
    read: Callable[[WebSocket], tuple[dict[str, Any], list[dict[str, Any]]]]


def plan_websocket(path: str, endpoint: Handler, dependencies: tuple[Any, ...] = ()) -> WebSocketPlan:
    """Plan a websocket route (``path`` is the full, valid path) with the
    rules of :func:`plan_route`: after the WebSocket, the endpoint and its
    dependencies take path, query and header parameters and ``Depends``;
    ``dependencies`` (app's, routers', the route's) run first. Raises
    TypeError, naming the route, for what cannot be served."""
    error = _RouteError(None, path)
    try:
        parameters = list(inspect.signature(endpoint).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    if not parameters or parameters[0].kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD):
        raise error("the endpoint must take the WebSocket as its first positional argument")
    path_params, _ = parse_path(path)
    by_name = {param.name: param for param in path_params}
    params: list[ParamSpec] = []
    converters: list[tuple[str, list[str], Converter]] = []
    seen: dict[str, ParamSpec] = {}
    root = Dependant(endpoint)
    _plan_arguments(_arguments(endpoint, error), by_name, path, error, params, converters, seen, root, None, websocket=True)
    extra = [_dependency(marker, None, by_name, path, error, params, converters, seen, websocket=True) for marker in dependencies]
    convert = {name: function for name, _, function in converters}
    readers = [(spec.name, [spec.location, spec.alias], _reader(spec, convert.get(spec.name))) for spec in params]

    def read(websocket: WebSocket) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        values: dict[str, Any] = {}
        details: list[dict[str, Any]] = []
        for name, loc, reader in readers:
            try:
                value = reader(websocket)
            except _ConversionError as exc:
                details.append(_detail(loc, exc.msg, exc.kind))
                continue
            if value is not _ABSENT:
                values[name] = value
        return values, details

    solver = (root, extra) if extra or root.deps or root.connection else None
    return WebSocketPlan(tuple(path_params), tuple(params), solver, read)


_ABSENT: Any = object()  # a parameter the session does not have, without a default


def _reader(spec: ParamSpec, convert: Converter | None) -> Callable[[Any], Any]:
    """What reads the parameter ``spec`` from a session's WebSocket (a
    ``Form`` one: from an HTTP request dict's form fields), converted and
    checked as the engine does for an HTTP route, except that a repeated
    query key gives its last value (as the WebSocket's ``query_params``
    do); _ABSENT when it is absent and has no default. Raises
    _ConversionError."""
    target = _target(spec.schema)
    many = target.get("type") == "array"
    parse = _text_parser(target.get("items", {}) if many else spec.schema)
    default = spec.schema.get("default", _ABSENT)
    location, alias = spec.location, spec.alias

    def read(websocket: Any) -> Any:
        texts: list[Any]
        if location == "form":  # from the request dict, not a WebSocket
            fields = (websocket.get("form_data") or {}).get("fields") or {}
            texts = fields.getlist(alias) if hasattr(fields, "getlist") else ([fields[alias]] if alias in fields else [])
        elif location == "query":
            texts = websocket.query_params.getlist(alias)
        elif location == "header":
            texts = websocket.headers.getlist(alias)
        else:
            texts = [websocket.path_params[alias]] if alias in websocket.path_params else []
        if not texts:
            if spec.required:
                raise _ConversionError("missing", "Field required")
            if default is _ABSENT:
                return _ABSENT
            value = copy.deepcopy(default)  # a list default is not shared by sessions
        elif many:
            value = [parse(text) for text in texts]
            _check_value(value, target)
        else:
            value = parse(texts[-1] if location == "query" else texts[0])
        return value if convert is None else convert(value)

    return read


def _text_parser(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """What turns one value of a session (a query or header text, a path
    value, which the route's converter may have made an int, a float or a
    UUID) into the value for ``schema``, checked against it. A union tries
    its branches in order. Raises _ConversionError."""
    branches = [branch for branch in schema.get("anyOf", ()) if branch != {"type": "null"}]
    if branches:
        parsers = [_text_parser(branch) for branch in branches]
        if len(parsers) == 1:
            return parsers[0]

        def parse_union(text: Any) -> Any:
            problems = []
            for parse_branch in parsers:
                try:
                    return parse_branch(text)
                except _ConversionError as exc:
                    problems.append(exc)
            raise problems[0]

        return parse_union
    convert = _parse_uuid if schema.get("format") == "uuid" else _TEXT_PARSERS.get(str(schema.get("type")), str)

    def parse(text: Any) -> Any:
        value = convert(text) if isinstance(text, str) else text
        _check_value(value, schema)
        return value

    return parse


_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


def _parse_int(text: str) -> int:
    if _INTEGER.fullmatch(text):
        try:
            return int(text)
        except ValueError:  # past Python's limit of digits
            pass
    raise _ConversionError("int_parsing", "Input should be a valid integer, unable to parse string as an integer")


def _parse_float(text: str) -> float:
    if not _NUMBER.fullmatch(text):
        raise _ConversionError("float_parsing", "Input should be a valid number, unable to parse string as a number")
    value = float(text)
    if math.isinf(value):
        raise _ConversionError("finite_number", "Input should be a finite number")
    return value


def _parse_bool(text: str) -> bool:
    value = _BOOLEANS.get(text.lower())
    if value is None:
        raise _ConversionError("bool_parsing", "Input should be a valid boolean, unable to interpret input")
    return value


def _parse_uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise _ConversionError("uuid_parsing", "Input should be a valid UUID, unable to parse string as a UUID") from None


_TEXT_PARSERS: dict[str, Callable[[str], Any]] = {"integer": _parse_int, "number": _parse_float, "boolean": _parse_bool}

_BOUNDS = (
    ("minimum", operator.ge, "greater_than_equal", "greater than or equal to"),
    ("exclusiveMinimum", operator.gt, "greater_than", "greater than"),
    ("maximum", operator.le, "less_than_equal", "less than or equal to"),
    ("exclusiveMaximum", operator.lt, "less_than", "less than"),
)


def _check_value(value: Any, schema: dict[str, Any]) -> None:
    """The checks of ``schema`` that parameter types and markers make (see
    _apply_marker): Literal and Enum values, bounds, lengths, pattern."""
    allowed = schema["enum"] if "enum" in schema else [schema["const"]] if "const" in schema else None
    if allowed is not None and value not in allowed:
        raise _ConversionError("enum", "Input should be " + " or ".join(repr(choice) for choice in allowed))
    for key, holds, kind, words in _BOUNDS:
        if key in schema and not holds(value, schema[key]):
            raise _ConversionError(kind, f"Input should be {words} {schema[key]}")
    if isinstance(value, (str, list)):
        text = isinstance(value, str)
        noun, unit, kind = ("String", "characters", "string_too") if text else ("List", "items", "too")
        shortest, longest = schema.get("minLength" if text else "minItems"), schema.get("maxLength" if text else "maxItems")
        if shortest is not None and len(value) < shortest:
            raise _ConversionError(f"{kind}_short", f"{noun} should have at least {shortest} {unit}")
        if longest is not None and len(value) > longest:
            raise _ConversionError(f"{kind}_long", f"{noun} should have at most {longest} {unit}")
    pattern = schema.get("pattern")
    if pattern is not None and isinstance(value, str) and re.search(pattern, value) is None:
        raise _ConversionError("string_pattern_mismatch", f"String should match pattern '{pattern}'")
