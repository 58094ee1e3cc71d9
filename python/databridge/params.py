"""Declaring what a handler takes from the request.

>>> from databridge import App, Query, Header
>>> app = App()
>>> @app.get("/search")
... def search(request, q: str, limit: int = Query(10, ge=1, le=100),
...            x_token: str = Header()):
...     return {"q": q, "limit": limit}

Handler parameters after ``request`` are filled by name: a name that is a
path parameter comes from the path; one annotated with a pydantic model, a
dataclass or a TypedDict, or named ``body``, receives the JSON body; any
other comes from the query string (or from a header, with :class:`Header`).
:class:`Query`, :class:`Header` and :class:`Path` add a default, bounds and
documentation. The engine checks and converts every value before Python
runs; see ``docs/validation.md``.
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any

__all__ = ["Query", "Header", "Path", "Form", "File", "RequestValidator"]


class _Required:
    """The default of a parameter that must be given."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


class Param:
    """Base of :class:`Query`, :class:`Header` and :class:`Path`.

    ``default`` (omit it, or pass ``...``, for a required parameter) is
    what the handler gets when the request does not carry the value.
    ``ge``/``gt``/``le``/``lt`` bound a number (each item of a list),
    ``min_length``/``max_length`` a string's length (a list's number of
    items), ``pattern`` a string (a regular expression, searched as JSON
    Schema does: anchor it with ``^...$``). ``alias`` is the name on the
    wire; ``title``, ``description`` and ``examples`` go into the schema
    and the OpenAPI document.
    """

    location: typing.ClassVar[str] = ""

    if TYPE_CHECKING:
        # For type checkers only: ``Query(...)`` (and Header, Path, each of
        # which reuses this declaration) is Any, so that
        # ``limit: int = Query(10, ge=1)`` is a valid default of any type, as
        # FastAPI's markers are. At run time these are classes: isinstance(x,
        # Query) works, and the call gives an instance. Keep the signature
        # the same as __init__'s.
        def __new__(
            cls,
            default: Any = REQUIRED,
            *,
            alias: str | None = None,
            ge: float | None = None,
            gt: float | None = None,
            le: float | None = None,
            lt: float | None = None,
            min_length: int | None = None,
            max_length: int | None = None,
            pattern: str | None = None,
            title: str | None = None,
            description: str | None = None,
            examples: list[Any] | None = None,
        ) -> Any: ...

    __slots__ = (
        "default", "alias", "ge", "gt", "le", "lt", "min_length", "max_length", "pattern",
        "title", "description", "examples",
    )

    def __init__(
        self,
        default: Any = REQUIRED,
        *,
        alias: str | None = None,
        ge: float | None = None,
        gt: float | None = None,
        le: float | None = None,
        lt: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
        title: str | None = None,
        description: str | None = None,
        examples: list[Any] | None = None,
    ) -> None:
        kind = type(self).__name__
        if alias is not None and (not isinstance(alias, str) or not alias):
            raise TypeError(f"databridge: {kind}(alias=...) must be a non-empty str")
        for key, bound in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt)):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float))):
                raise TypeError(f"databridge: {kind}({key}=...) must be a number, not {type(bound).__name__}")
        for key, length in (("min_length", min_length), ("max_length", max_length)):
            if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < 0):
                raise TypeError(f"databridge: {kind}({key}=...) must be an int >= 0")
        for key, text in (("pattern", pattern), ("title", title), ("description", description)):
            if text is not None and not isinstance(text, str):
                raise TypeError(f"databridge: {kind}({key}=...) must be a str, not {type(text).__name__}")
        if examples is not None and not isinstance(examples, list):
            raise TypeError(f"databridge: {kind}(examples=...) must be a list")
        self.default = REQUIRED if default is ... else default
        self.alias = alias
        self.ge, self.gt, self.le, self.lt = ge, gt, le, lt
        self.min_length, self.max_length = min_length, max_length
        self.pattern = pattern
        self.title, self.description, self.examples = title, description, examples

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def __repr__(self) -> str:
        given = [f"{key}={getattr(self, key)!r}" for key in self.__slots__ if key != "default" and getattr(self, key) is not None]
        if not self.required:
            given.insert(0, repr(self.default))
        return f"{type(self).__name__}({', '.join(given)})"


class Query(Param):
    """A query-string parameter: ``limit: int = Query(10, ge=1, le=100)``.
    A ``list[...]`` parameter takes every value of a repeated key
    (``?tag=a&tag=b``)."""

    location = "query"
    __slots__ = ()

    if TYPE_CHECKING:
        __new__ = Param.__new__


class Header(Param):
    """A request header: ``x_token: str = Header()`` reads ``x-token``
    (the name with ``_`` as ``-``, matched case-insensitively) unless
    ``alias`` names it."""

    location = "header"
    __slots__ = ()

    if TYPE_CHECKING:
        __new__ = Param.__new__


class Path(Param):
    """Bounds and documentation for a path parameter:
    ``item_id: int = Path(ge=1)``. A path parameter is always required."""

    location = "path"
    __slots__ = ()

    if TYPE_CHECKING:
        __new__ = Param.__new__


class Form(Param):
    """A field of an urlencoded or multipart form body:
    ``title: str = Form()``, ``tags: list[str] = Form([])`` (FastAPI's).
    The engine parses the form; the value is checked and converted in
    Python before the handler runs (a 422 names ``["body", name]``). On a
    route with ``UploadFile`` parameters the other fields come with them."""

    location = "form"
    __slots__ = ()

    if TYPE_CHECKING:
        __new__ = Param.__new__


class File(Param):
    """FastAPI's marker of a file field: ``file: UploadFile = File()``
    (the same as the bare annotation; ``File(None)`` makes it optional), or
    ``data: bytes = File()`` for the file's content as bytes."""

    location = "file"
    __slots__ = ()

    if TYPE_CHECKING:
        __new__ = Param.__new__


class RequestValidator:
    """Whole-request schemas, checked by the engine before the handler runs.

    >>> RequestValidator(query={"type": "object", "properties": {"full": {"type": "boolean"}}})  # doctest: +SKIP

    Each of ``body``, ``query``, ``headers`` and ``path`` is a JSON Schema
    (draft 2020-12) dict, a pydantic v2 model, a dataclass or a TypedDict.
    ``query`` is checked against the object of query values (each
    converted by the type its property declares), ``headers`` against the
    headers by lower-case name (strings), ``path`` against the converted
    path parameters, ``body`` against the JSON body. The schemas are made
    here, once; :attr:`schemas` holds them.
    """

    __slots__ = ("body", "query", "headers", "path", "schemas")

    body: Any
    query: Any
    headers: Any
    path: Any
    schemas: dict[str, dict[str, Any] | None]

    def __init__(self, body: Any = None, query: Any = None, headers: Any = None, path: Any = None) -> None:
        from ._schema import schema_of

        self.body, self.query, self.headers, self.path = body, query, headers, path
        self.schemas = {}
        for part in ("body", "query", "headers", "path"):
            value = getattr(self, part)
            try:
                self.schemas[part] = None if value is None else schema_of(value)
            except TypeError as exc:
                raise TypeError(f"databridge: RequestValidator({part}=...): {exc}") from None

    def __repr__(self) -> str:
        given = [f"{part}={getattr(self, part)!r}" for part in ("body", "query", "headers", "path") if getattr(self, part) is not None]
        return f"RequestValidator({', '.join(given)})"
