"""Class-based views: View and MethodView."""

from __future__ import annotations

import threading
from functools import wraps
from typing import Any

import pytest

from quaver import Blueprint, Quaver, request, url_for
from quaver.views import MethodView, View


async def test_view_dispatch_request_gets_url_variables(app: Quaver) -> None:
    class Greeting(View):
        async def dispatch_request(self, name: str) -> str:
            return f"Hello {name} via {request.method}"

    app.add_url_rule("/hello/<name>", view_func=Greeting.as_view("greeting"))
    response = await app.test_client().get("/hello/Ada")
    assert await response.get_data(as_text=True) == "Hello Ada via GET"
    async with app.test_request_context("/"):
        assert url_for("greeting", name="x") == "/hello/x"


async def test_sync_dispatch_request_runs_off_the_event_loop(app: Quaver) -> None:
    loop_thread = threading.get_ident()

    class Sync(View):
        def dispatch_request(self) -> str:
            return "other thread" if threading.get_ident() != loop_thread else "loop thread"

    app.add_url_rule("/", view_func=Sync.as_view("sync"))
    assert await (await app.test_client().get("/")).get_data(as_text=True) == "other thread"


async def test_view_methods_limit_the_rule(app: Quaver) -> None:
    class PostOnly(View):
        methods = ["POST"]

        async def dispatch_request(self) -> str:
            return "posted"

    app.add_url_rule("/", view_func=PostOnly.as_view("post_only"))
    client = app.test_client()
    assert await (await client.post("/")).get_data(as_text=True) == "posted"
    response = await client.get("/")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


async def test_constructor_arguments_come_from_as_view(app: Quaver) -> None:
    class Template(View):
        def __init__(self, greeting: str, *, punctuation: str = ".") -> None:
            self.greeting = greeting
            self.punctuation = punctuation

        async def dispatch_request(self) -> str:
            return self.greeting + self.punctuation

    app.add_url_rule("/a", view_func=Template.as_view("a", "Hi", punctuation="!"))
    app.add_url_rule("/b", view_func=Template.as_view("b", "Bye"))
    client = app.test_client()
    assert await (await client.get("/a")).get_data(as_text=True) == "Hi!"
    assert await (await client.get("/b")).get_data(as_text=True) == "Bye."


async def test_a_new_instance_per_request_unless_init_every_request_is_false(app: Quaver) -> None:
    class Counter(View):
        def __init__(self) -> None:
            self.count = 0

        async def dispatch_request(self) -> str:
            self.count += 1
            return str(self.count)

    class SharedCounter(Counter):
        init_every_request = False

    app.add_url_rule("/fresh", view_func=Counter.as_view("fresh"))
    app.add_url_rule("/shared", view_func=SharedCounter.as_view("shared"))
    client = app.test_client()
    assert [await (await client.get("/fresh")).get_data(as_text=True) for _ in range(3)] == ["1", "1", "1"]
    assert [await (await client.get("/shared")).get_data(as_text=True) for _ in range(3)] == ["1", "2", "3"]


async def test_decorators_wrap_the_view_in_order(app: Quaver) -> None:
    def tag(label: str) -> Any:
        def decorator(func: Any) -> Any:
            @wraps(func)
            async def wrapper(**kwargs: Any) -> str:
                return f"{label}({await func(**kwargs)})"

            return wrapper

        return decorator

    class Wrapped(View):
        decorators = [tag("inner"), tag("outer")]

        async def dispatch_request(self) -> str:
            return "view"

    view = Wrapped.as_view("wrapped")
    assert view.view_class is Wrapped
    assert view.__name__ == "wrapped"
    app.add_url_rule("/", view_func=view)
    assert await (await app.test_client().get("/")).get_data(as_text=True) == "outer(inner(view))"


async def test_a_decorator_can_refuse_the_request(app: Quaver) -> None:
    def needs_token(func: Any) -> Any:
        @wraps(func)
        async def wrapper(**kwargs: Any) -> Any:
            if request.headers.get("X-Token") != "letmein":
                return "no", 403
            return await func(**kwargs)

        return wrapper

    class Secret(View):
        decorators = [needs_token]

        async def dispatch_request(self) -> str:
            return "secret"

    app.add_url_rule("/", view_func=Secret.as_view("secret"))
    client = app.test_client()
    assert (await client.get("/")).status_code == 403
    assert await (await client.get("/", headers={"X-Token": "letmein"})).get_data(as_text=True) == "secret"


async def test_view_without_dispatch_request_fails(app: Quaver) -> None:
    class Empty(View):
        pass

    app.add_url_rule("/", view_func=Empty.as_view("empty"))
    with pytest.raises(NotImplementedError):
        await app.test_client().get("/")


# -- MethodView -------------------------------------------------------------


class Item(MethodView):
    async def get(self, item_id: int) -> str:
        return f"get {item_id}"

    def post(self, item_id: int) -> Any:  # a sync method
        return {"created": item_id}, 201

    async def delete(self, item_id: int) -> Any:
        return "", 204


async def test_method_view_dispatches_by_http_method(app: Quaver) -> None:
    app.add_url_rule("/items/<int:item_id>", view_func=Item.as_view("item"))
    client = app.test_client()
    assert await (await client.get("/items/3")).get_data(as_text=True) == "get 3"
    created = await client.post("/items/4")
    assert created.status_code == 201
    assert await created.get_json() == {"created": 4}
    assert (await client.delete("/items/5")).status_code == 204


async def test_method_view_methods_come_from_its_methods(app: Quaver) -> None:
    assert Item.methods == {"GET", "POST", "DELETE"}
    app.add_url_rule("/items/<int:item_id>", view_func=Item.as_view("item"))
    client = app.test_client()
    response = await client.put("/items/1")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST", "DELETE", "OPTIONS"}
    options = await client.options("/items/1")
    assert options.status_code == 200
    assert "DELETE" in options.headers["Allow"]


async def test_head_uses_get_without_a_head_method(app: Quaver) -> None:
    app.add_url_rule("/items/<int:item_id>", view_func=Item.as_view("item"))
    response = await app.test_client().head("/items/1")
    assert response.status_code == 200
    assert await response.get_data() == b""
    assert response.headers["Content-Length"] == str(len("get 1"))


async def test_method_view_subclasses_inherit_and_add_methods(app: Quaver) -> None:
    class WithPut(Item):
        async def put(self, item_id: int) -> str:
            return f"put {item_id}"

    class Explicit(Item):
        methods = ["GET"]

    assert WithPut.methods == {"GET", "POST", "DELETE", "PUT"}
    app.add_url_rule("/with-put/<int:item_id>", view_func=WithPut.as_view("with_put"))
    app.add_url_rule("/explicit/<int:item_id>", view_func=Explicit.as_view("explicit"))
    client = app.test_client()
    assert await (await client.put("/with-put/2")).get_data(as_text=True) == "put 2"
    assert await (await client.get("/with-put/2")).get_data(as_text=True) == "get 2"
    assert (await client.post("/explicit/1")).status_code == 405


async def test_method_views_in_a_blueprint(app: Quaver) -> None:
    class Users(MethodView):
        async def get(self) -> str:
            return url_for(".users")

    bp = Blueprint("api", __name__, url_prefix="/api")
    bp.add_url_rule("/users", view_func=Users.as_view("users"))
    app.register_blueprint(bp)
    assert await (await app.test_client().get("/api/users")).get_data(as_text=True) == "/api/users"


async def test_method_view_request_data(app: Quaver) -> None:
    class Echo(MethodView):
        async def post(self) -> Any:
            return {"json": await request.get_json(), "args": request.args.to_dict()}

    app.add_url_rule("/echo", view_func=Echo.as_view("echo"))
    response = await app.test_client().post("/echo?x=1", json={"a": [1, 2]})
    assert await response.get_json() == {"json": {"a": [1, 2]}, "args": {"x": "1"}}


async def test_provide_automatic_options_can_be_turned_off(app: Quaver) -> None:
    class NoOptions(MethodView):
        provide_automatic_options = False

        async def get(self) -> str:
            return "get"

    app.add_url_rule("/", view_func=NoOptions.as_view("no_options"))
    assert (await app.test_client().options("/")).status_code == 405


async def test_a_view_without_dispatch_request_fails_when_called(app: Quaver) -> None:
    class Unfinished(View):
        pass

    app.add_url_rule("/", view_func=Unfinished.as_view("unfinished"))
    app.config["TESTING"] = True
    with pytest.raises(NotImplementedError):
        await app.test_client().get("/")


async def test_a_view_may_await_the_base_dispatch_request_as_in_quart(app: Quaver) -> None:
    class Guarded(View):
        async def dispatch_request(self, **kwargs: Any) -> str:
            try:
                return await super().dispatch_request(**kwargs)
            except NotImplementedError:
                return "the base leaves dispatch to subclasses"

    app.add_url_rule("/", view_func=Guarded.as_view("guarded"))
    response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "the base leaves dispatch to subclasses"
