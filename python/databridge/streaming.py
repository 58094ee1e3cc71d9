"""Streamed responses and Server-Sent Events.

A handler streams by returning a :class:`StreamingResponse`, or a generator
or async generator (a 200 without a content-type). The engine sends the
head at once, then each chunk as the iterator yields it (chunked on
HTTP/1.1, DATA frames on HTTP/2); chunks are ``bytes`` (or bytearray,
memoryview) or ``str`` (sent UTF-8).

Backpressure: the iterator is advanced only after the previous chunk was
written to the socket, so a slow client holds at most one chunk in the
server beyond what the kernel's socket buffers hold.

A sync iterator's ``next()`` runs on the event loop's thread: a blocking
one stalls every request. Write blocking producers as async generators (or
use ``await asyncio.to_thread(...)`` inside one).

When the client goes away (a write fails, the connection closes, an HTTP/2
stream is reset, the server stops) the iterator is closed: ``GeneratorExit`` at its ``yield``
(``aclose()`` for an async generator; a pending ``__anext__`` is
cancelled). :func:`is_disconnected` tells a generator so.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, Callable, Union

from .responses import Headers, Response

__all__ = ["StreamingResponse", "EventSourceResponse", "ServerSentEvent", "is_disconnected"]

Content = Union[Iterable[Any], AsyncIterable[Any]]


class _StreamState:
    """One stream's state, shared with the engine (pybridge/stream.c)."""

    __slots__ = ("disconnected",)

    def __init__(self) -> None:
        self.disconnected = False


#: The stream whose iterator runs now (set by the engine around each step).
_current: contextvars.ContextVar[_StreamState | None] = contextvars.ContextVar("databridge_stream", default=None)


async def is_disconnected(request: Any = None) -> bool:
    """True once the engine knows the client of the response being streamed
    is gone. Call it from inside the streaming generator (the engine sets
    which stream that is; ``request`` is accepted for symmetry with
    ``await request.is_disconnected()`` in Starlette/FastAPI, whose
    requests are objects: databridge's request is a dict, so this is a
    function). Outside a stream it returns False.

    The engine learns of a disconnect when a write fails, when an HTTP/2
    client resets the stream, when an HTTP/1.1 client closes the
    connection (read ahead while the response streams), or when the
    server stops. A pending ``await`` of an async generator is cancelled
    then, so a polling loop usually ends by ``CancelledError``; the flag
    is also True in the ``finally:`` of a generator closed that way.
    """
    state = _current.get()
    return bool(state is not None and state.disconnected)


class StreamingResponse(Response):
    """``StreamingResponse(content, status_code=200, headers=None,
    media_type=None)``, as Starlette's: ``content`` is a sync or async
    iterable of bytes or str chunks, sent as they come."""

    __slots__ = ()
    _databridge_stream = True  # what the engine recognizes (pybridge/response.c)

    def __init__(
        self,
        content: Content,
        status_code: int = 200,
        headers: Headers | None = None,
        media_type: str | None = None,
        background: Any = None,
    ) -> None:
        if not (hasattr(content, "__aiter__") or hasattr(content, "__iter__")):
            raise TypeError(
                f"databridge: StreamingResponse content must be an iterable or async iterable, "
                f"not {type(content).__name__}"
            )
        if isinstance(content, (str, bytes, bytearray, memoryview)):
            content = [content]
        if background is not None:  # run once the last chunk is out, as Starlette does
            content = _then(content, background)
        super().__init__(content, status_code, headers=headers, media_type=media_type)


def _then(content: Content, background: Any) -> Content:
    """content, then background scheduled once it is exhausted (not when
    the stream is cut: the client left)."""
    from .background import after_response

    if hasattr(content, "__aiter__"):

        async def agen() -> AsyncIterator[Any]:
            async for chunk in content:
                yield chunk
            after_response(background)

        return agen()

    def gen() -> Iterator[Any]:
        yield from content
        after_response(background)

    return gen()


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class ServerSentEvent:
    """One event: ``data`` (str, split into one ``data:`` line per line of
    it), with optional ``event``, ``id``, ``retry`` (milliseconds) and
    ``comment``, as sse-starlette's."""

    __slots__ = ("data", "event", "id", "retry", "comment", "sep")

    def __init__(
        self,
        data: Any = None,
        *,
        event: str | None = None,
        id: str | int | None = None,
        retry: int | None = None,
        comment: str | None = None,
        sep: str | None = None,
    ) -> None:
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry
        self.comment = comment
        self.sep = sep

    def encode(self, sep: str = "\r\n") -> bytes:
        sep = self.sep or sep
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(f": {line}" for line in _LINE_BREAK.split(self.comment))
        if self.id is not None:
            lines.append(f"id: {_one_line('id', self.id)}")
        if self.event is not None:
            lines.append(f"event: {_one_line('event', self.event)}")
        if self.data is not None:
            data = self.data.decode() if isinstance(self.data, bytes) else str(self.data)
            lines.extend(f"data: {line}" for line in _LINE_BREAK.split(data))
        if self.retry is not None:
            if isinstance(self.retry, bool) or not isinstance(self.retry, int):
                raise TypeError("databridge: ServerSentEvent retry must be an int (milliseconds)")
            lines.append(f"retry: {self.retry}")
        return (sep.join(lines) + sep + sep).encode()

    def __repr__(self) -> str:
        return f"ServerSentEvent(data={self.data!r}, event={self.event!r}, id={self.id!r}, retry={self.retry!r})"


def _one_line(field: str, value: Any) -> str:
    text = str(value)
    if _LINE_BREAK.search(text):
        raise ValueError(f"databridge: ServerSentEvent {field} cannot contain a line break")
    return text


def _event_bytes(item: Any, sep: str) -> bytes:
    if isinstance(item, ServerSentEvent):
        return item.encode(sep)
    if isinstance(item, Mapping):
        return ServerSentEvent(**item).encode(sep)
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)  # already encoded
    return ServerSentEvent(str(item)).encode(sep)


class EventSourceResponse(StreamingResponse):
    """Server-Sent Events, as sse-starlette's ``EventSourceResponse``:
    ``content`` yields str (one event's data), dicts (ServerSentEvent
    keywords) or :class:`ServerSentEvent` objects. While it is idle, a
    ``: ping`` comment goes out every ``ping`` seconds (keeps proxies from
    timing out, and finds clients that left). Sent with ``Content-Type:
    text/event-stream``, ``Cache-Control: no-cache`` and
    ``X-Accel-Buffering: no`` (nginx then does not buffer it).

    A sync iterable is advanced in the default thread pool, so that it can
    block without stalling the loop and pings still go out.
    """

    __slots__ = ()

    DEFAULT_PING_INTERVAL = 15

    def __init__(
        self,
        content: Content,
        status_code: int = 200,
        headers: Headers | None = None,
        media_type: str = "text/event-stream",
        ping: float | None = None,
        sep: str = "\r\n",
        ping_message_factory: Callable[[], ServerSentEvent] | None = None,
    ) -> None:
        if sep not in ("\r\n", "\n", "\r"):
            raise ValueError("databridge: sep must be one of \\r\\n, \\n, \\r")
        interval = self.DEFAULT_PING_INTERVAL if ping is None else ping
        pairs: list[tuple[str, str]] = []
        if headers is not None:
            pairs = list(headers.items()) if isinstance(headers, Mapping) else [tuple(p) for p in headers]  # type: ignore[misc]
        names = {name.lower() for name, _ in pairs}
        for name, value in (("Cache-Control", "no-cache"), ("X-Accel-Buffering", "no")):
            if name.lower() not in names:
                pairs.append((name, value))
        super().__init__(
            _events(content, interval, sep, ping_message_factory), status_code, pairs, media_type
        )


async def _events(
    content: Content, ping: float, sep: str, factory: Callable[[], ServerSentEvent] | None
) -> AsyncIterator[bytes]:
    """The encoded events of content, with a ping whenever it is idle for
    ``ping`` seconds (0: no pings)."""
    loop = asyncio.get_running_loop()
    done = object()
    if hasattr(content, "__aiter__"):
        source: Any = content.__aiter__()

        def step() -> Any:
            return asyncio.ensure_future(source.__anext__())
    else:
        source = iter(content)

        def step() -> Any:
            return loop.run_in_executor(None, next, source, done)

    pending: asyncio.Future[Any] | None = None
    try:
        while True:
            if pending is None:
                pending = step()
            if ping > 0:
                finished, _ = await asyncio.wait({pending}, timeout=ping)
                if not finished:
                    message = factory() if factory is not None else ServerSentEvent(comment="ping")
                    yield message.encode(sep)
                    continue
            try:
                item = await pending
            except StopAsyncIteration:
                return
            finally:
                pending = None
            if item is done:
                return
            yield _event_bytes(item, sep)
    finally:
        if pending is not None:
            pending.cancel()
        elif hasattr(source, "aclose"):
            await source.aclose()
        elif hasattr(source, "close"):
            try:
                source.close()
            except ValueError:  # running in the thread pool right now
                pass
