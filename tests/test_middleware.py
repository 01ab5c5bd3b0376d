"""ProxyFix: X-Forwarded-* headers applied only from the trusted number of proxies."""

from __future__ import annotations

import pytest

from quaver import Quaver, request, url_for, websocket
from quaver.middleware import ProxyFix


@pytest.fixture
def app() -> Quaver:
    app = Quaver(__name__)

    @app.get("/where")
    async def where():
        return {
            "remote_addr": request.remote_addr,
            "scheme": request.scheme,
            "host": request.host,
            "root_path": request.root_path,
            "path": request.path,
            "url": request.url,
            "external": url_for("where", _external=True),
        }

    @app.websocket("/ws")
    async def ws():
        await websocket.accept()
        await websocket.send(f"{websocket.scheme} {websocket.remote_addr}")

    return app


async def get_where(app: Quaver, headers: dict[str, str]) -> dict[str, str]:
    response = await app.test_client().get(
        "/where", headers={"Host": "backend:8000", **headers}, scope_base={"client": ("127.0.0.1", 40000)}
    )
    assert response.status_code == 200
    return await response.get_json()


async def test_without_the_middleware_forwarded_headers_are_ignored(app: Quaver) -> None:
    seen = await get_where(app, {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert seen["remote_addr"] == "127.0.0.1"
    assert seen["scheme"] == "http"


async def test_one_trusted_proxy_sets_client_and_scheme(app: Quaver) -> None:
    app.asgi_app = ProxyFix(app.asgi_app, x_for=1, x_proto=1)
    seen = await get_where(app, {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert seen["remote_addr"] == "203.0.113.9"
    assert seen["scheme"] == "https"
    assert seen["url"] == "https://backend:8000/where"


async def test_only_the_value_of_the_trusted_hop_is_used(app: Quaver) -> None:
    app.asgi_app = ProxyFix(app.asgi_app, x_for=1)
    # the client forged the first address; the one proxy we trust appended the real one
    seen = await get_where(app, {"X-Forwarded-For": "10.6.6.6, 198.51.100.7"})
    assert seen["remote_addr"] == "198.51.100.7"


async def test_two_trusted_hops_take_the_second_value_from_the_right(app: Quaver) -> None:
    app.asgi_app = ProxyFix(app.asgi_app, x_for=2)
    seen = await get_where(app, {"X-Forwarded-For": "10.6.6.6, 198.51.100.7, 192.0.2.1"})
    assert seen["remote_addr"] == "198.51.100.7"


async def test_fewer_values_than_trusted_hops_are_ignored(app: Quaver) -> None:
    app.asgi_app = ProxyFix(app.asgi_app, x_for=2, x_proto=2)
    seen = await get_where(app, {"X-Forwarded-For": "10.6.6.6", "X-Forwarded-Proto": "https"})
    assert seen["remote_addr"] == "127.0.0.1"
    assert seen["scheme"] == "http"


async def test_host_and_port_are_untrusted_by_default(app: Quaver) -> None:
    app.asgi_app = ProxyFix(app.asgi_app)
    seen = await get_where(app, {"X-Forwarded-Host": "evil.example", "X-Forwarded-Port": "1234"})
    assert seen["host"] == "backend:8000"


async def test_trusted_host_port_and_prefix_shape_external_urls(app: Quaver) -> None:
    app.asgi_app = ProxyFix(app.asgi_app, x_proto=1, x_host=1, x_port=1, x_prefix=1)
    seen = await get_where(app, {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "www.example.com",
        "X-Forwarded-Port": "8443",
        "X-Forwarded-Prefix": "/shop/",
    })
    assert seen["host"] == "www.example.com:8443"
    assert seen["root_path"] == "/shop"
    assert seen["path"] == "/where"
    assert seen["external"] == "https://www.example.com:8443/shop/where"


async def test_a_forwarded_port_alone_replaces_the_port_of_the_host(app: Quaver) -> None:
    app.asgi_app = ProxyFix(app.asgi_app, x_port=1)
    seen = await get_where(app, {"X-Forwarded-Port": "443"})
    assert seen["host"] == "backend:443"


async def test_websockets_get_ws_schemes_from_the_forwarded_proto(app: Quaver) -> None:
    app.asgi_app = ProxyFix(app.asgi_app, x_for=1, x_proto=1)
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    async with app.test_client().websocket("/ws", headers=headers) as ws:
        assert await ws.receive() == "wss 203.0.113.9"
