"""What the app and blueprints add to Flask's Scaffold: websocket routes
and hooks, and ``open_resource``, shared by ``Quaver`` and ``Blueprint``."""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any, TypeVar

from flask.sansio.scaffold import setupmethod

from .typing import (
    AfterWebsocketCallable,
    BeforeWebsocketCallable,
    TeardownCallable,
    WebsocketCallable,
)

T = Callable[..., Any]
# What the websocket decorators take and give back, as Quart types them.
T_websocket = TypeVar("T_websocket", bound=WebsocketCallable)
T_before_websocket = TypeVar("T_before_websocket", bound=BeforeWebsocketCallable)
T_after_websocket = TypeVar("T_after_websocket", bound=AfterWebsocketCallable)
T_teardown = TypeVar("T_teardown", bound=TeardownCallable)
_R = TypeVar("_R")


class AsyncFile:
    """An open file whose blocking calls run in the thread pool.

    ``await f.read()``, ``await f.readline()``, ``await f.write(data)``,
    ``await f.seek(0)``, ``async for line in f``; ``async with`` closes it
    (or ``await f.close()``). Other attributes (``name``, ``mode``,
    ``closed``, ``encoding``) are the underlying file's.
    """

    def __init__(self, file: IO[Any]) -> None:
        self.file = file

    async def _run(self, func: Callable[..., _R], *args: Any) -> _R:
        return await asyncio.get_running_loop().run_in_executor(None, func, *args)

    async def read(self, size: int = -1) -> Any:
        return await self._run(self.file.read, size)

    async def readline(self, size: int = -1) -> Any:
        return await self._run(self.file.readline, size)

    async def readlines(self, hint: int = -1) -> list[Any]:
        return await self._run(self.file.readlines, hint)

    async def write(self, data: Any) -> int:
        return await self._run(self.file.write, data)

    async def writelines(self, lines: Any) -> None:
        await self._run(self.file.writelines, lines)

    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return await self._run(self.file.seek, offset, whence)

    async def tell(self) -> int:
        return await self._run(self.file.tell)

    async def truncate(self, size: int | None = None) -> int:
        return await self._run(self.file.truncate, size)

    async def flush(self) -> None:
        await self._run(self.file.flush)

    async def close(self) -> None:
        await self._run(self.file.close)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.file, name)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line

    async def __aenter__(self) -> AsyncFile:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()


class FileOpener:
    """A file to open: ``async with opener as f`` gives an ``AsyncFile``
    closed at the end of the block; ``f = await opener`` one to close
    yourself. The file is opened in the thread pool."""

    def __init__(self, path: str, mode: str, encoding: str | None) -> None:
        self.path = path
        self.mode = mode
        self.encoding = None if "b" in mode else encoding
        self._entered: list[Any] = []  # files open in a with block, innermost last

    def _open_sync(self) -> IO[Any]:
        return open(self.path, self.mode, encoding=self.encoding)

    async def _open(self) -> AsyncFile:
        return AsyncFile(await asyncio.get_running_loop().run_in_executor(None, self._open_sync))

    def __await__(self) -> Any:
        return self._open().__await__()

    async def __aenter__(self) -> AsyncFile:
        file = await self._open()
        self._entered.append(file)
        return file

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._entered.pop().close()


class Resource(FileOpener):
    """What ``open_resource`` returns, usable as in Quart and as in Flask:
    ``async with await app.open_resource(name) as f: await f.read()``
    (awaiting it gives a ``FileOpener``), ``async with
    app.open_resource(name) as f``, or, blocking, ``with
    app.open_resource(name) as f: f.read()`` (a plain file)."""

    def __await__(self) -> Any:
        return _ready(FileOpener(self.path, self.mode, self.encoding)).__await__()

    def __enter__(self) -> IO[Any]:
        file = self._open_sync()
        self._entered.append(file)
        return file

    def __exit__(self, *exc_info: Any) -> None:
        self._entered.pop().close()


async def _ready(value: Any) -> Any:
    return value


class QuaverScaffoldMixin:
    """Websocket routes and per-scope websocket hooks; ``open_resource``;
    ``static_folder`` as a ``Path``."""

    _static_folder: str | None

    @property
    def static_folder(self) -> Path | None:
        """The absolute path of the static folder, or None if there is none:
        a ``Path``, so ``app.static_folder / "video.mp4"`` names a file in it."""
        folder = self._static_folder
        return None if folder is None else Path(self.root_path, folder)  # type: ignore[attr-defined]

    @static_folder.setter
    def static_folder(self, value: str | os.PathLike[str] | None) -> None:
        self._static_folder = None if value is None else os.fspath(value).rstrip("\\/")

    def open_resource(
        self, resource: str | os.PathLike[str], mode: str = "rb", encoding: str | None = "utf-8"
    ) -> Resource:
        """Open ``resource``, a path relative to ``root_path``, for reading:
        ``async with await app.open_resource("schema.sql") as f: await f.read()``
        (see ``Resource`` for the other forms). ``mode`` is ``"rb"``, ``"r"``
        or ``"rt"``; ``encoding`` applies to the text modes. Not for names
        taken from a request: as in Flask, ``..`` and absolute paths are
        followed (use ``send_from_directory`` to serve files).
        """
        if mode not in ("r", "rt", "rb"):
            raise ValueError("Resources can only be opened for reading.")
        return Resource(os.path.join(self.root_path, resource), mode, encoding)  # type: ignore[attr-defined]

    def _init_websocket_funcs(self) -> None:
        self.before_websocket_funcs: dict[str | None, list[T]] = defaultdict(list)
        self.after_websocket_funcs: dict[str | None, list[T]] = defaultdict(list)
        self.teardown_websocket_funcs: dict[str | None, list[T]] = defaultdict(list)

    def websocket(self, rule: str, **options: Any) -> Callable[[T_websocket], T_websocket]:
        """Register a websocket handler for ``rule``."""

        def decorator(func: T_websocket) -> T_websocket:
            endpoint = options.pop("endpoint", None)
            self.add_websocket(rule, endpoint, func, **options)
            return func

        return decorator

    @setupmethod
    def add_websocket(
        self, rule: str, endpoint: str | None = None, view_func: WebsocketCallable | None = None, **options: Any
    ) -> None:
        """Register ``view_func`` as the websocket handler for ``rule``."""
        options["websocket"] = True
        options["methods"] = {"GET"}
        options.setdefault("provide_automatic_options", False)
        self.add_url_rule(rule, endpoint, view_func, **options)  # type: ignore[attr-defined]

    @setupmethod
    def before_websocket(self, func: T_before_websocket) -> T_before_websocket:
        """Run ``func()`` before each websocket handler of this scope."""
        self.before_websocket_funcs[None].append(func)
        return func

    @setupmethod
    def after_websocket(self, func: T_after_websocket) -> T_after_websocket:
        """Run ``func(response)`` after each websocket handler of this scope."""
        self.after_websocket_funcs[None].append(func)
        return func

    @setupmethod
    def teardown_websocket(self, func: T_teardown) -> T_teardown:
        """Run ``func(exc)`` when each websocket of this scope ends."""
        self.teardown_websocket_funcs[None].append(func)
        return func
