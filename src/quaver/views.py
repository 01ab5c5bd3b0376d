"""Class-based views: ``View`` and ``MethodView``.

A view class becomes a view function with ``as_view(name)``; its methods
may be coroutines or plain functions (those run in the thread pool, as
sync view functions do).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, ClassVar

from .globals import current_app, request
from .utils import is_coroutine_function

if TYPE_CHECKING:
    from .typing import ResponseReturnValue, RouteCallable

__all__ = ("HTTP_METHOD_NAMES", "MethodView", "View")

#: The methods a ``MethodView`` looks for, by lower-case HTTP method name.
HTTP_METHOD_NAMES = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace"})
#: Quart's name for HTTP_METHOD_NAMES.
http_method_funcs = HTTP_METHOD_NAMES


async def _call(func: Callable[..., Any], kwargs: dict[str, Any]) -> ResponseReturnValue:
    """Await ``func(**kwargs)``; a sync ``func`` runs in the thread pool.

    Not ``app.ensure_async``: that caches by function, and a bound method of
    a fresh instance per request would fill the cache.
    """
    result: ResponseReturnValue
    if is_coroutine_function(func):
        result = await func(**kwargs)
    else:
        result = await current_app.sync_to_async(func)(**kwargs)
    return result


class View:
    """Subclass and define ``dispatch_request``; register with
    ``app.add_url_rule("/path", view_func=MyView.as_view("name"))``.

    Class attributes:

    * ``methods``: the HTTP methods the rule accepts (default: GET, and
      OPTIONS/HEAD as the app adds them).
    * ``decorators``: applied to the view function, first one innermost.
    * ``provide_automatic_options``: as the argument of ``add_url_rule``.
    * ``init_every_request``: False to create one instance for all requests,
      so ``self`` must not hold per-request state.
    """

    methods: ClassVar[Collection[str] | None] = None
    provide_automatic_options: ClassVar[bool | None] = None
    decorators: ClassVar[list[Callable[..., Any]]] = []
    init_every_request: ClassVar[bool] = True

    async def dispatch_request(self, **kwargs: Any) -> ResponseReturnValue:
        """Handle the request, with the URL's variables as keyword arguments;
        return what a view function would. An override may be a plain ``def``
        (run in the thread pool) or ``async def``."""
        raise NotImplementedError(f"{type(self).__name__} must define 'dispatch_request'.")

    @classmethod
    def as_view(cls, name: str, *class_args: Any, **class_kwargs: Any) -> RouteCallable:
        """The view function for this class, registered under endpoint ``name``.

        ``class_args`` and ``class_kwargs`` go to the class's constructor.
        """
        if cls.init_every_request:

            async def view(**kwargs: Any) -> ResponseReturnValue:
                instance = view.view_class(*class_args, **class_kwargs)  # type: ignore[attr-defined]
                return await _call(instance.dispatch_request, kwargs)

        else:
            shared = cls(*class_args, **class_kwargs)

            async def view(**kwargs: Any) -> ResponseReturnValue:
                return await _call(shared.dispatch_request, kwargs)

        view.view_class = cls  # type: ignore[attr-defined]
        result: Any = view
        if cls.decorators:
            _describe(result, cls, name)
            for decorator in cls.decorators:
                result = decorator(result)
        # Set after decorating, so the attributes are on what gets registered.
        _describe(result, cls, name)
        result.view_class = cls
        result.methods = cls.methods
        result.provide_automatic_options = cls.provide_automatic_options
        made: RouteCallable = result
        return made


def _describe(func: Any, cls: type, name: str) -> None:
    func.__name__ = name
    func.__qualname__ = name
    func.__doc__ = cls.__doc__
    func.__module__ = cls.__module__


class MethodView(View):
    """Dispatches each request to the method named after its HTTP method:
    ``async def get(self, id)``, ``def post(self, id)`` and so on. HEAD uses
    ``get`` when there is no ``head``. ``methods`` is worked out from the
    methods the class (and its bases) define."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "methods" in cls.__dict__:
            return
        methods: set[str] = set()
        for base in cls.__bases__:
            methods.update(getattr(base, "methods", None) or ())
        methods.update(name.upper() for name in HTTP_METHOD_NAMES if hasattr(cls, name))
        if methods:
            cls.methods = methods

    async def dispatch_request(self, **kwargs: Any) -> ResponseReturnValue:
        method = request.method
        handler = getattr(self, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(self, "get", None)
        if handler is None:
            raise AssertionError(f"{type(self).__name__} has no method for {method!r}.")
        return await _call(handler, kwargs)
