"""The OpenAPI 3.1 document of an app, and its Swagger UI docs page.

:func:`build` turns the routes (their parameters, bodies, validators,
docstrings, options and return annotations) into the document
``App.openapi()`` returns. The app serves it at ``openapi_url`` and Swagger
UI at ``docs_url``; the UI's files are package data
(``databridge/static/swagger-ui/``), written at build time from the
swagger-ui-dist npm package, so the page works offline.
"""

from __future__ import annotations

import copy
import functools
import html
import inspect
import json
import re
import typing
from collections.abc import Callable, Iterator
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exceptions import RequestValidationError
from ._schema import NoneType, is_structured, sanitize, schema_of, unwrap
from .responses import Response
from .routing import Route
from .validation import Plan, parse_path, path_param_schema

if TYPE_CHECKING:
    import weakref

    from .app import App

__all__ = ["build", "ASSET_DIR", "ASSETS"]

ASSET_DIR = Path(__file__).resolve().parent / "static" / "swagger-ui"

# Sent with each asset by the engine's file server (which also answers
# If-None-Match / If-Modified-Since with 304).
ASSET_CACHE_CONTROL = "public, max-age=3600"

# The Swagger UI files the docs page loads, with their content types (the
# engine's file server gives the same by extension).
ASSETS: dict[str, str] = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_REF = "#/components/schemas/"

# The bodies the engine answers errors with, as components.
_BUILTIN_COMPONENTS: dict[str, dict[str, Any]] = {
    "ValidationError": {
        "title": "ValidationError",
        "type": "object",
        "properties": {
            "error": {"type": "string", "const": "validation failed"},
            "details": {"type": "array", "items": {"$ref": _REF + "ValidationErrorDetail"}},
        },
        "required": ["error", "details"],
    },
    "ValidationErrorDetail": {
        "title": "ValidationErrorDetail",
        "type": "object",
        "properties": {
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"type": "string"},
            "type": {"type": "string"},
        },
        "required": ["loc", "msg", "type"],
    },
    "Error": {
        "title": "Error",
        "type": "object",
        "properties": {"error": {"description": "What went wrong: a message, or any JSON an HTTPError carried"}},
        "required": ["error"],
    },
}


def build(app: App) -> dict[str, Any]:
    """The OpenAPI 3.1.0 document of ``app``'s routes."""
    document = _Document()
    # An app with its own handler for validation errors answers 422 in its
    # own shape, which the document cannot know: it then names the status
    # without a schema.
    handlers = getattr(app, "exception_handlers", {})
    document.custom_422 = RequestValidationError in handlers or 422 in handlers
    paths: dict[str, dict[str, Any]] = {}
    for route in app.routes:
        method = route.method.lower()
        if not route.include_in_schema or method not in _METHODS or route.plan is None:
            continue
        _, template = parse_path(route.path)
        operations = paths.setdefault(template, {})
        if method not in operations:  # "/u/<int:id>" and "/u/{id}" share a template: the first wins
            operations[method] = document.operation(route, route.plan)
    info: dict[str, Any] = {"title": app.title, "version": app.version}
    if app.description:
        info["description"] = app.description
    result: dict[str, Any] = {"openapi": "3.1.0", "info": info, "paths": paths}
    components = document.used_components(paths)
    if components:
        result["components"] = {"schemas": components}
    return result


class _Document:
    """Collects the component schemas while operations are made."""

    def __init__(self) -> None:
        self.components: dict[str, dict[str, Any]] = copy.deepcopy(_BUILTIN_COMPONENTS)
        self.operation_ids: set[str] = set()
        self.custom_422 = False  # the app answers 422 with its own handler

    # -- schemas ------------------------------------------------------------

    def hoist(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` for the document: its ``$defs`` become components and
        its references point at them."""
        schema = copy.deepcopy(schema)
        schema.pop("$schema", None)
        defs = schema.pop("$defs", None) or {}
        identity = {name: sanitize(name) for name in defs}
        mapping = {}
        for name, part in defs.items():
            rewritten = _rewrite(part, identity)
            mapping[name] = self._free_name(identity[name], rewritten)
        for name, part in defs.items():
            self.components[mapping[name]] = _rewrite(part, mapping)
        result: dict[str, Any] = _rewrite(schema, mapping)
        return result

    def named(self, source: Any, schema: dict[str, Any]) -> dict[str, Any]:
        """A reference to ``schema`` as a component named after ``source``
        (a model, dataclass or TypedDict), or the schema inline."""
        schema = self.hoist(schema)
        if not is_structured(source):
            return schema
        if set(schema) == {"$ref"}:  # a recursive model: the root is a reference already
            return schema
        name = self._free_name(sanitize(source.__name__), schema)
        self.components[name] = schema
        return {"$ref": _REF + name}

    def _free_name(self, name: str, schema: dict[str, Any]) -> str:
        """``name``, or ``name2``, ``name3`` ... when a different schema has it."""
        candidate, n = name, 1
        while candidate in self.components and self.components[candidate] != schema:
            n += 1
            candidate = f"{name}{n}"
        return candidate

    def used_components(self, paths: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The components, without the built-in ones nothing refers to."""
        text = json.dumps([paths, {k: v for k, v in self.components.items() if k not in _BUILTIN_COMPONENTS}])
        used = dict(self.components)
        if f'"{_REF}ValidationError"' not in text:
            del used["ValidationError"], used["ValidationErrorDetail"]
        if f'"{_REF}Error"' not in text:
            del used["Error"]
        return dict(sorted(used.items()))

    # -- operations ---------------------------------------------------------

    def operation(self, route: Route, plan: Plan) -> dict[str, Any]:
        operation: dict[str, Any] = {}
        if route.tags:
            operation["tags"] = list(route.tags)
        summary, description = _texts(route)
        if summary:
            operation["summary"] = summary
        if description:
            operation["description"] = description
        operation["operationId"] = self.operation_id(route)
        parameters = self.parameters(plan)
        if parameters:
            operation["parameters"] = parameters
        if plan.body is not None:
            operation["requestBody"] = {
                "required": plan.body.required,
                "content": {"application/json": {"schema": self.named(plan.body.source, plan.body.schema)}},
            }
        elif plan.uploads or plan.forms:
            operation["requestBody"] = _form_body(plan.uploads, plan.forms)
        operation["responses"] = self.responses(route, plan)
        return operation

    def operation_id(self, route: Route) -> str:
        name = route.name.rpartition("<locals>.")[2]  # a nested function's qualified name
        base = re.sub(r"\W", "_", f"{name}_{route.method.lower()}")
        candidate, n = base, 1
        while candidate in self.operation_ids:
            n += 1
            candidate = f"{base}_{n}"
        self.operation_ids.add(candidate)
        return candidate

    def parameters(self, plan: Plan) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()

        def add(name: str, location: str, required: bool, schema: dict[str, Any], description: str | None = None) -> None:
            if (location, name.lower() if location == "header" else name) in seen:
                return
            seen.add((location, name.lower() if location == "header" else name))
            entry: dict[str, Any] = {"name": name, "in": location, "required": required, "schema": schema}
            if description:
                entry["description"] = description
            parameters.append(entry)

        for param in plan.params:
            add(param.alias, param.location, param.required, self.hoist(param.schema), param.description)
        schemas = plan.validator.schemas if plan.validator is not None else {}
        whole = {part: self.hoist(schema) for part, schema in schemas.items() if part != "body" and schema is not None}
        path_properties = whole.get("path", {}).get("properties", {})
        for path_param in plan.path_params:
            add(path_param.name, "path", True, path_properties.get(path_param.name) or path_param_schema(path_param))
        for part, location in (("query", "query"), ("headers", "header")):
            schema = whole.get(part, {})
            required = schema.get("required", [])
            for name, prop in schema.get("properties", {}).items():
                if isinstance(prop, dict):
                    add(name, location, name in required, prop, prop.get("description"))
        return parameters

    def responses(self, route: Route, plan: Plan) -> dict[str, Any]:
        status, media, schema = self.success(route)
        response: dict[str, Any] = {"description": _phrase(status)}
        if media is not None:
            response["content"] = {media: {"schema": schema} if schema else {}}
        responses: dict[str, Any] = {str(status): response}
        if plan.spec is not None and self.custom_422:
            responses["422"] = {"description": "Validation Error (the app's own exception handler)"}
        elif plan.spec is not None:
            responses["422"] = {
                "description": "Validation Error",
                "content": {"application/json": {"schema": {"$ref": _REF + "ValidationError"}}},
            }
        responses["default"] = {
            "description": "Error",
            "content": {"application/json": {"schema": {"$ref": _REF + "Error"}}},
        }
        return responses

    def success(self, route: Route) -> tuple[int, str | None, dict[str, Any] | None]:
        """The success status, media type and schema of ``route``."""
        model = route.response_model
        if model is None:
            model = _return_annotation(route.handler)
        if model is _UNKNOWN:
            return route.status_code or 200, None, None
        model = unwrap(model)
        args = typing.get_args(model)
        if typing.get_origin(model) is tuple and len(args) in (2, 3) and args[0] is int:
            model = unwrap(args[1])  # (status, body) or (status, body, headers): the body's
        if model is None or model is NoneType:
            return route.status_code or 204, None, None
        status = route.status_code or 200
        if model is str:
            return status, "text/plain", {"type": "string"}
        if model in (bytes, bytearray):
            return status, "application/octet-stream", None
        try:
            schema = schema_of(model, mode="serialization")
        except TypeError:  # Response, a tuple, ...: nothing to say
            return status, None, None
        if not schema:  # Any
            return status, None, None
        return status, "application/json", self.named(model, schema)


_UNKNOWN: Any = object()


def _return_annotation(handler: Callable[..., Any]) -> Any:
    from .validation import _annotated_function

    function = _annotated_function(handler)
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except Exception:
        return _UNKNOWN
    return hints.get("return", _UNKNOWN)


def _rewrite(schema: Any, mapping: dict[str, str]) -> Any:
    """A copy of ``schema`` with ``#/$defs/X`` references turned into
    component references."""
    if isinstance(schema, dict):
        result = {}
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                name = value[len("#/$defs/"):]
                value = _REF + mapping.get(name, sanitize(name))
            else:
                value = _rewrite(value, mapping)
            result[key] = value
        return result
    if isinstance(schema, list):
        return [_rewrite(item, mapping) for item in schema]
    return schema


def _texts(route: Route) -> tuple[str | None, str | None]:
    """Summary and description: the options, else the docstring's first
    line and the rest."""
    handler = route.handler
    while isinstance(handler, functools.partial):
        handler = handler.func
    doc = inspect.getdoc(handler) if inspect.isfunction(handler) or inspect.ismethod(handler) else None
    first, rest = None, None
    if doc:
        first, _, rest = doc.strip().partition("\n")
        rest = rest.strip() or None
    if route.summary is not None:
        return route.summary, route.description if route.description is not None else doc
    return first, route.description if route.description is not None else rest


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Response"


# -- serving ------------------------------------------------------------------


def document_handler(app: weakref.ref[App]) -> Callable[[dict[str, Any]], Any]:
    def openapi(request: dict[str, Any]) -> Any:
        current = app()
        return current.openapi() if current is not None else Response({"error": "Service Unavailable"}, status=503)

    return openapi


def docs_handler(app: weakref.ref[App]) -> Callable[[dict[str, Any]], Any]:
    def docs(request: dict[str, Any]) -> Response:
        current = app()
        if current is None or current.docs_url is None or current.openapi_url is None:
            return Response({"error": "Service Unavailable"}, status=503)
        missing = missing_assets()
        if missing:
            return _not_built(missing)
        return Response(docs_html(current.title, current.openapi_url, current.docs_url), media_type="text/html; charset=utf-8")

    return docs


def asset_url(docs_url: str, asset: str) -> str:
    return f"{docs_url.rstrip('/')}/{asset}"


def asset_handlers() -> Iterator[tuple[str, Callable[[dict[str, Any]], Response]]]:
    """A handler for each Swagger UI file, for an app whose assets were
    not all built (the engine's file server sends them otherwise); each
    reads its file once."""
    for asset, media_type in ASSETS.items():
        yield asset, _asset_handler(asset, media_type)


def _asset_handler(asset: str, media_type: str) -> Callable[[dict[str, Any]], Response]:
    cache: list[bytes] = []

    def swagger_asset(request: dict[str, Any]) -> Response:
        if not cache:
            try:
                cache.append((ASSET_DIR / asset).read_bytes())
            except OSError:
                return _not_built([asset])
        return Response(cache[0], media_type=media_type, headers={"cache-control": "public, max-age=3600"})

    swagger_asset.__name__ = f"swagger_asset[{asset}]"
    return swagger_asset


def missing_assets() -> list[str]:
    return [asset for asset in ASSETS if not (ASSET_DIR / asset).is_file()]


def _not_built(missing: list[str]) -> Response:
    return Response(
        {
            "error": "the API docs assets were not built",
            "detail": (
                f"missing {', '.join(missing)} in {ASSET_DIR}: databridge was built without npm. "
                "Install it again with npm on PATH, or in a source checkout run "
                "`python3 tools/swagger_assets.py python/databridge/static/swagger-ui`. "
                "The OpenAPI document itself is served."
            ),
        },
        status=503,
    )


def docs_html(title: str, openapi_url: str, docs_url: str) -> str:
    """The Swagger UI page; every file it loads comes from this app."""
    css, bundle, icon = (html.escape(asset_url(docs_url, asset)) for asset in ASSETS)
    config = json.dumps(
        {
            "url": openapi_url,
            "dom_id": "#swagger-ui",
            "deepLinking": True,
            "validatorUrl": None,  # the badge would call an online validator
            "layout": "BaseLayout",
        }
    ).replace("<", "\\u003c")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} - API docs</title>
<link rel="stylesheet" href="{css}">
<link rel="icon" type="image/png" href="{icon}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{bundle}"></script>
<script>
const config = {config};
config.presets = [SwaggerUIBundle.presets.apis];
window.ui = SwaggerUIBundle(config);
</script>
</body>
</html>
"""


def _form_body(uploads: tuple[tuple[str, str], ...], forms: tuple[Any, ...]) -> dict[str, Any]:
    """The requestBody of a route's Form and UploadFile parameters (as
    FastAPI writes it: a binary string per file, an array for a list;
    multipart/form-data with files, else urlencoded)."""
    binary = {"type": "string", "format": "binary"}
    properties: dict[str, Any] = {spec.alias: dict(spec.schema) for spec in forms}
    required = [spec.alias for spec in forms if spec.required]
    for name, kind in uploads:
        properties[name] = {"type": "array", "items": binary} if kind.startswith("list") else dict(binary)
        if kind in ("one", "bytes"):
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    media = "multipart/form-data" if uploads else "application/x-www-form-urlencoded"
    return {"required": bool(required), "content": {media: {"schema": schema}}}
