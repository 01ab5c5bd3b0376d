"""The HTTP request: metadata from the scope, the body awaited from the server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any

from werkzeug.datastructures import CombinedMultiDict, Headers, ImmutableMultiDict, MultiDict
from werkzeug.exceptions import (
    BadRequest,
    ClientDisconnected,
    HTTPException,
    RequestEntityTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
)

from ..datastructures import FileStorage
from ..formparser import FormDataParser
from ..utils import await_by_deadline, resume_with_deadline
from .base import BaseRequestWebsocket

Receive = Callable[[], Awaitable[dict[str, Any]]]


class Body:
    """The request body: ``await body`` for all of it, ``async for`` for chunks.

    Chunks are pulled from the server only as the reader asks for them, so a
    slow reader slows the sender (backpressure) and nothing is buffered
    unless the whole body is awaited.

    ``receive`` is the ASGI receive callable, or (Quart's form,
    ``Body(expected_content_length, max_content_length)``) the declared
    length or None: a body fed by hand with ``append``, ``set_complete`` and
    ``set_result``, whose readers wait until it is complete. ``data`` gives
    a body that is complete already.
    """

    __slots__ = ("_receive", "_max", "_timeout", "_deadline", "_received", "_complete", "_data", "_queue", "_cut")

    def __init__(
        self,
        receive: Receive | int | None,
        max_content_length: int | None = None,
        timeout: float | None = None,
        data: bytes | None = None,
    ) -> None:
        self._max = max_content_length
        self._timeout = timeout
        self._deadline: float | None = None
        self._received = 0
        self._data = data
        if callable(receive):
            self._receive: Any = receive
            self._complete = data is not None
            return
        self._complete = True
        self._receive = None
        if data is None:  # fed by hand; ``receive`` is the declared length
            self._feed(None)
            if receive is not None and max_content_length is not None and receive > max_content_length:
                self._receive = _too_large  # raised to the reader, as a body read from a server would

    def _check_declared_length(self, content_length: int | None) -> None:
        if self._max is not None and content_length is not None and content_length > self._max:
            raise RequestEntityTooLarge()

    async def _next_chunk(self) -> bytes:
        if self._timeout is None:
            message = await self._receive()
        else:
            receiving = self._receive()
            step = getattr(receiving, "send", None)  # Granian's awaitables have none: they always wait
            try:
                if step is None:
                    message = await await_by_deadline(receiving, self._body_deadline(self._timeout))
                else:
                    try:
                        first = step(None)
                    except StopIteration as done:  # the server already had it: no deadline needed
                        message = done.value
                    else:
                        message = await resume_with_deadline(receiving, first, self._body_deadline(self._timeout))
            except TimeoutError:
                raise RequestTimeout() from None
        if message["type"] == "http.disconnect":
            self._complete = True
            raise ClientDisconnected()
        chunk: bytes = message.get("body", b"")
        self._received += len(chunk)
        if not message.get("more_body", False):
            self._complete = True
        if self._max is not None and self._received > self._max:
            if not self._complete:
                self._cut = True  # the client is still sending: see _drain
            self._complete = True
            raise RequestEntityTooLarge()
        return chunk

    def _body_deadline(self, timeout: float) -> float:
        """The loop time the whole body must have arrived by: set at the
        first ``receive()`` that has to wait."""
        deadline = self._deadline
        if deadline is None:
            deadline = self._deadline = asyncio.get_running_loop().time() + timeout
        return deadline

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _Chunks(self)

    async def read(self) -> bytes:
        """Return the whole body, reading what is left of it."""
        if self._data is None:
            if self._complete:
                self._data = b""
            else:
                first = await self._next_chunk()
                if self._complete:
                    self._data = first
                else:
                    parts = [first]
                    while not self._complete:
                        parts.append(await self._next_chunk())
                    self._data = b"".join(parts)
        return self._data

    def __await__(self) -> Generator[Any, None, bytes]:
        return self.read().__await__()

    async def _until_disconnect(self, receive: Receive) -> None:
        """Return once the client has disconnected.

        Runs beside a streamed response, as the only caller of ``receive``:
        what is left of the body goes on to its reader through a small queue
        (so a reader still gets it, at its own pace), and the disconnect is
        seen as soon as the body has been handed over. A body nobody reads
        that fills the queue holds this up too: then the disconnect is seen
        only when the response ends (RESPONSE_TIMEOUT at the latest).
        """
        queue: asyncio.Queue[dict[str, Any]] | None = None
        if not self._complete:
            queue = asyncio.Queue(maxsize=16)
            self._receive = queue.get
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                if queue is not None and not queue.full():
                    queue.put_nowait(message)  # a reader waiting for the body learns it too
                return
            if queue is not None:
                await queue.put(message)
                if not message.get("more_body", False):
                    queue = None  # all of the body is with its reader now

    async def _drain(self, most: int, seconds: float) -> None:
        """Read and drop what is left of the body from the server, up to
        ``most`` bytes within ``seconds``. Before a 413 goes out: a client
        still sending then gets to read it, where a server closing the
        connection with unread bytes in it sends a reset that can reach the
        client before the answer does."""
        receive = self._receive
        cut = getattr(self, "_cut", False)  # set only when a read stopped short at the limit
        if (self._complete and not cut) or receive is None or receive is _too_large or hasattr(self, "_queue"):
            return
        self._cut = False
        left = most
        try:
            async with asyncio.timeout(seconds):
                while left > 0:
                    message = await receive()
                    if message["type"] == "http.disconnect" or not message.get("more_body", False):
                        self._complete = True
                        return
                    left -= len(message.get("body", b""))
        except TimeoutError:
            pass

    # A body fed by hand, for a Request built without a server (Quart's API).
    def _feed(self, message: dict[str, Any] | None) -> None:
        queue: asyncio.Queue[dict[str, Any]] | None = getattr(self, "_queue", None)
        if queue is None:
            queue = asyncio.Queue()
            self._queue = queue
            self._receive = queue.get
            self._complete = False
            self._data = None
        if message is not None:
            queue.put_nowait(message)

    def append(self, data: bytes) -> None:
        """Add a chunk to a body built by hand."""
        self._feed({"type": "http.request", "body": bytes(data), "more_body": True})

    def set_complete(self) -> None:
        """Say a body built by hand has no more chunks."""
        self._feed({"type": "http.request", "body": b"", "more_body": False})

    def set_result(self, data: bytes) -> None:
        """Give a body built by hand all its data at once."""
        self._feed({"type": "http.request", "body": bytes(data), "more_body": False})

    def clear(self) -> None:
        """Drop the body's data held in memory: what was read whole, and
        chunks fed by hand not yet read. A complete body then reads as b""."""
        queue: asyncio.Queue[dict[str, Any]] | None = getattr(self, "_queue", None)
        if queue is not None:
            ended = False
            while not queue.empty():
                ended = not queue.get_nowait().get("more_body", False) or ended
            if ended:  # a reader still learns the body is complete
                queue.put_nowait({"type": "http.request", "body": b"", "more_body": False})
        if self._data is not None:
            self._data = b""


async def _too_large() -> dict[str, Any]:
    raise RequestEntityTooLarge()


class _Chunks:
    """``async for chunk in body``: the chunks as they arrive.

    A class rather than an async generator: a reader that stops early
    (``break``, a form that fails to parse) leaves nothing for the garbage
    collector to finish in a task of its own.
    """

    __slots__ = ("_body", "_started")

    def __init__(self, body: Body) -> None:
        self._body: Body | None = body
        self._started = False

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        body = self._body
        if body is None:
            raise StopAsyncIteration
        if not self._started:
            self._started = True
            data = body._data
            if data is not None:  # read (or given) whole already: one chunk
                self._body = None
                if data:
                    return data
                raise StopAsyncIteration
        while not body._complete:
            chunk = await body._next_chunk()
            if chunk:
                return chunk
        raise StopAsyncIteration


class Request(BaseRequestWebsocket):
    """An HTTP request. Body access is async: ``await request.get_data()``."""

    #: Parses urlencoded and multipart bodies as they arrive (see ``quaver.formparser``).
    form_data_parser_class = FormDataParser
    parameter_storage_class: type[MultiDict[str, Any]] = ImmutableMultiDict
    #: The class of ``request.body``: a subclass set here is what the request reads into.
    body_class = Body
    _receive: Receive | None = None
    _body: Body | None = None
    _form: MultiDict[str, str] | None = None
    _files: MultiDict[str, FileStorage] | None = None
    _max_content_length: int | None = None
    _max_form_memory_size: int | None = None
    _max_form_parts: int | None = None
    _body_timeout: float | None = None
    _json_cache: Any = None

    def __init__(
        self,
        method: str,
        scheme: str,
        path: str,
        query_string: bytes,
        headers: Any,
        root_path: str,
        http_version: str,
        scope: dict[str, Any],
        *,
        max_content_length: int | None = None,
        body_timeout: int | None = None,
        send_push_promise: Callable[..., Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(method, scheme, path, query_string, headers, root_path, http_version, scope)
        self._max_content_length = max_content_length
        self._body_timeout = body_timeout
        self._body = self.body_class(self.content_length, max_content_length, body_timeout)
        if send_push_promise is not None:
            self._send_push_promise = send_push_promise

    # --- limits -------------------------------------------------------
    def _config_limit(self, key: str) -> int | None:
        limit: int | None = self._config[key] if self._config is not None else None
        return limit

    @property
    def max_content_length(self) -> int | None:
        """The largest body accepted (413 beyond it); MAX_CONTENT_LENGTH by default."""
        if self._max_content_length is not None:
            return self._max_content_length
        return self._config_limit("MAX_CONTENT_LENGTH")

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def max_form_memory_size(self) -> int | None:
        if self._max_form_memory_size is not None:
            return self._max_form_memory_size
        return self._config_limit("MAX_FORM_MEMORY_SIZE")

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self._max_form_memory_size = value

    @property
    def max_form_parts(self) -> int | None:
        if self._max_form_parts is not None:
            return self._max_form_parts
        return self._config_limit("MAX_FORM_PARTS")

    @max_form_parts.setter
    def max_form_parts(self, value: int | None) -> None:
        self._max_form_parts = value

    @property
    def body_timeout(self) -> float | None:
        timeout = self._body_timeout
        return timeout if timeout is not None else self._config_limit("BODY_TIMEOUT")

    # --- body ---------------------------------------------------------
    @property
    def body(self) -> Body:
        """The body, awaitable whole or iterable in chunks as they arrive."""
        if self._body is None:
            config = self._config
            max_length = self._max_content_length
            if max_length is None and config is not None:
                max_length = config["MAX_CONTENT_LENGTH"]
            timeout = self._body_timeout
            if timeout is None and config is not None:
                timeout = config["BODY_TIMEOUT"]
            body = self._body = self.body_class(self._receive, max_length, timeout)
            if max_length is not None:
                known = self.__dict__  # content_length without its descriptor, on the hot path
                if "content_length" not in known:
                    self._scan_entity_headers()
                body._check_declared_length(known["content_length"])
            return body
        return self._body

    async def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> bytes | str:
        """Return the body as bytes (or text), reading it from the server if needed.

        Once a form has been parsed from the body as it streamed in, the body
        is gone (b"", as in Flask); ``parse_form_data=True`` keeps both: the
        body is read whole first, then the form is parsed from it.
        """
        data = await self.body.read()
        if parse_form_data:
            await self._load_form_data()
        return data.decode(self.charset if hasattr(self, "charset") else "utf-8", "replace") if as_text else data

    @property
    def data(self) -> Awaitable[bytes]:
        return self.get_data()  # type: ignore[return-value]

    @property
    def stream(self) -> Body:
        return self.body

    # --- forms --------------------------------------------------------
    def make_form_data_parser(self) -> FormDataParser:
        """The parser for this request's form, with its limits."""
        return self.form_data_parser_class(
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.parameter_storage_class,
        )

    async def _load_form_data(self) -> None:
        """Parse the form from the body as it arrives: 413 past the limits, 400 if malformed."""
        if self._form is not None:
            return
        parser = self.make_form_data_parser()
        mimetype = self.mimetype
        if not parser.can_parse(mimetype):
            self._form = self.parameter_storage_class()
            self._files = self.parameter_storage_class()
            return
        try:
            form, files = await parser.parse(self.body, mimetype, self.content_length, self.mimetype_params)
        except ValueError as error:
            raise BadRequest(f"Malformed form data: {error}") from None
        self._form = form
        self._files = files

    async def _get_form(self) -> MultiDict[str, str]:
        await self._load_form_data()
        return self._form  # type: ignore[return-value]

    async def _get_files(self) -> MultiDict[str, FileStorage]:
        await self._load_form_data()
        return self._files  # type: ignore[return-value]

    async def _get_values(self) -> CombinedMultiDict[str, str]:
        sources = [self.args]
        if self.method != "GET":
            sources.append(await self._get_form())
        return CombinedMultiDict(sources)

    @property
    def form(self) -> Awaitable[MultiDict[str, str]]:
        """``await request.form``: the parsed form fields."""
        return self._get_form()

    @property
    def files(self) -> Awaitable[MultiDict[str, FileStorage]]:
        """``await request.files``: the uploaded files by field name."""
        return self._get_files()

    @property
    def values(self) -> Awaitable[CombinedMultiDict[str, str]]:
        """``await request.values``: args and form combined."""
        return self._get_values()

    # --- JSON ---------------------------------------------------------
    @property
    def json(self) -> Awaitable[Any]:
        """``await request.json``: the parsed JSON body (415 if not JSON)."""
        return self.get_json()

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Parse the body as JSON.

        Returns None with ``silent=True`` where parsing fails; otherwise a body
        that is not JSON-typed gives 415 and malformed JSON gives 400.
        """
        if cache and self._json_cache is not None and self._json_cache[silent] is not _MISSING:
            return self._json_cache[silent]
        if not (force or self.is_json):
            if silent:
                return None
            return self.on_json_loading_failed(None)
        data = await self.body.read()
        try:
            result = self.json_module.loads(data)
        except (ValueError, RecursionError) as error:
            if error.__class__ is RecursionError:
                error = ValueError("the JSON is nested too deeply")
            if silent:
                result = None
            else:
                return self.on_json_loading_failed(error)
        if cache:
            if self._json_cache is None:
                self._json_cache = [_MISSING, _MISSING]
            self._json_cache[silent] = result
        return result

    def on_json_loading_failed(self, error: Exception | None) -> Any:
        """Raise the error for a body that could not be read as JSON."""
        if error is None:
            raise UnsupportedMediaType(
                "Did not attempt to load JSON data because the request"
                " Content-Type was not 'application/json'."
            )
        if self._config is not None and self._config["DEBUG"]:
            raise BadRequest(f"Failed to decode JSON object: {error}")
        raise BadRequest()  # the parser's words only in debug, as in Flask

    async def _wait_for_disconnect(self) -> None:
        """Return once the client has gone away; see ``Body._until_disconnect``."""
        body = self._body
        if body is None:
            try:
                body = self.body
            except HTTPException:  # declared too large: its reader gets the 413
                body = self._body
        await body._until_disconnect(self._receive)  # type: ignore[union-attr,arg-type]

    # --- HTTP/2 push --------------------------------------------------
    async def send_push_promise(self, path: str) -> None:
        """Ask the server to push ``path`` if it supports server push."""
        sender = getattr(self, "_send_push_promise", None)
        if sender is not None:
            copied = SERVER_PUSH_HEADERS_TO_COPY
            headers = Headers([(key, value) for key, value in self.headers.items() if key.lower() in copied])
            await sender(path, headers)

    async def close(self) -> None:
        """Close the uploaded files (all of them, however many share a field name)."""
        if self._files:
            for _, file in self._files.items(multi=True):
                file.close()


_MISSING = object()
#: The request headers a pushed request carries (those describing the client, as in Quart).
#: The request headers a pushed request (HTTP/2 server push) copies from the one pushing it.
SERVER_PUSH_HEADERS_TO_COPY = frozenset({"accept", "accept-encoding", "accept-language", "cache-control", "user-agent"})
