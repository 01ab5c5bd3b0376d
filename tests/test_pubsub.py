"""quaver.pubsub: the API and its semantics, the same on every backend
(memory, a redis-server of this module's own, PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid

import pytest
from broker_servers import PostgresCluster, RedisServer, free_port, wait_for_port

from quaver import Quaver
from quaver.pubsub import DEFAULT_QUEUE_SIZE, InvalidURL, MessageTooLarge, PublishError, PubSub


@pytest.fixture(scope="module")
def redis_url():
    with RedisServer() as server:
        yield server.url


@pytest.fixture(scope="module")
def postgres_url():
    if os.environ.get("TEST_POSTGRES_URL"):
        yield os.environ["TEST_POSTGRES_URL"]
        return
    with PostgresCluster() as cluster:
        yield cluster.url


@pytest.fixture(params=["memory", "redis", "postgres"])
def url(request):
    if request.param == "memory":
        return "memory://"
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def channel() -> str:
    """A channel no other test (or test run on the same broker) uses."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def pubsub(url):
    pubsub = PubSub(url=url)
    await pubsub.start()
    yield pubsub
    await pubsub.close()


async def test_a_subscriber_gets_a_publishers_messages_in_order(pubsub, channel):
    async with pubsub.subscribe(channel) as messages:
        for number in range(300):
            await pubsub.publish(channel, {"n": number})
        assert [(await messages.get(timeout=5))["n"] for _ in range(300)] == list(range(300))


async def test_messages_are_json_values(pubsub, channel):
    sent = [{"name": "ada", "text": "héllo ✓"}, [1, 2.5, None], "text", 42, True, None]
    async with pubsub.subscribe(channel) as messages:
        for message in sent:
            await pubsub.publish(channel, message)
        assert [await messages.get(timeout=5) for _ in sent] == sent


async def test_undecoded_subscribers_get_the_json_text_to_forward(pubsub, channel):
    async with pubsub.subscribe(channel, decode=False) as texts, pubsub.subscribe(channel) as values:
        await pubsub.publish(channel, {"name": "ada", "text": "héllo"})
        assert await texts.get(timeout=5) == '{"name":"ada","text":"héllo"}'
        assert await values.get(timeout=5) == {"name": "ada", "text": "héllo"}


@pytest.mark.parametrize("url", ["redis", "postgres"], indirect=True)  # memory:// is one process's
async def test_every_subscriber_in_every_process_gets_every_message(url, pubsub, channel):
    other_process = PubSub(url=url)  # another worker or host on the same broker
    try:
        async with pubsub.subscribe(channel) as here, pubsub.subscribe(channel) as here_too:
            async with other_process.subscribe(channel) as there:
                await pubsub.publish(channel, "from here")
                await other_process.publish(channel, "from there")
                for messages in (here, here_too, there):
                    assert {await messages.get(timeout=5), await messages.get(timeout=5)} == {"from here", "from there"}
    finally:
        await other_process.close()


async def test_a_subscriber_gets_only_its_channel(pubsub, channel):
    async with pubsub.subscribe(channel) as messages, pubsub.subscribe(channel + "-other") as other:
        await pubsub.publish(channel + "-other", "not for you")
        await pubsub.publish(channel, "for you")
        assert await messages.get(timeout=5) == "for you"
        assert await other.get(timeout=5) == "not for you"
        with pytest.raises(TimeoutError):
            await messages.get(timeout=0.2)


async def test_a_slow_subscriber_misses_messages_and_holds_nobody_up(pubsub, channel):
    async with pubsub.subscribe(channel, queue_size=5) as slow, pubsub.subscribe(channel) as quick:
        for number in range(20):
            await pubsub.publish(channel, number)  # nobody reads slow: publishing never waits for it
        assert [await quick.get(timeout=5) for _ in range(20)] == list(range(20))
        await asyncio.sleep(0.05)
        assert [await slow.get(timeout=1) for _ in range(5)] == [0, 1, 2, 3, 4]  # the first ones, in order
        assert slow.dropped == 15 and quick.dropped == 0
        await pubsub.publish(channel, "later")
        assert await slow.get(timeout=5) == "later"  # it carries on once it has room


def test_the_default_queue_holds_at_least_a_thousand_messages():
    assert DEFAULT_QUEUE_SIZE >= 1000
    assert PubSub().subscribe("room").queue_size == DEFAULT_QUEUE_SIZE


async def test_too_large_and_non_json_messages_are_refused_before_sending(pubsub, channel):
    async with pubsub.subscribe(channel) as messages:
        with pytest.raises(MessageTooLarge, match="7999"):
            await pubsub.publish(channel, "x" * 8000)
        with pytest.raises(TypeError):
            await pubsub.publish(channel, {"when": object()})
        with pytest.raises(ValueError):
            await pubsub.publish(channel, float("nan"))
        await pubsub.publish(channel, "x" * 7997)  # 7,999 bytes with its quotes: the largest that fits
        assert len(await messages.get(timeout=5)) == 7997


@pytest.mark.parametrize("name", ["", "x" * 64, 7])
async def test_channel_names_every_backend_takes(name):
    with pytest.raises(ValueError):
        PubSub().subscribe(name)
    with pytest.raises(ValueError):
        await PubSub().publish(name, 1)


async def test_iteration_ends_when_the_pubsub_closes(url, channel):
    pubsub = PubSub(url=url)
    received = []

    async def read() -> None:
        async with pubsub.subscribe(channel) as messages:
            async for message in messages:
                received.append(message)

    reader = asyncio.create_task(read())
    while not pubsub.subscriber_count(channel):
        await asyncio.sleep(0.01)
    await pubsub.publish(channel, "last")
    while not received:
        await asyncio.sleep(0.01)
    await pubsub.close()
    await asyncio.wait_for(reader, 5)
    assert received == ["last"]


async def test_leaving_the_block_unsubscribes(url, channel):
    pubsub = PubSub(url=url)
    try:
        for _ in range(3):
            async with pubsub.subscribe(channel), pubsub.subscribe(channel):
                assert pubsub.subscriber_count(channel) == 2
            assert pubsub.subscriber_count(channel) == 0
        if url.startswith("redis"):
            from redis import asyncio as aioredis

            client = aioredis.Redis.from_url(url)
            assert await client.pubsub_numsub(channel) == [(channel.encode(), 0)]
            await client.aclose()
    finally:
        await pubsub.close()


async def test_the_app_serving_connects_and_closes_it(redis_url, channel):
    app = Quaver(__name__)
    app.config["PUBSUB_URL"] = redis_url
    pubsub = PubSub(app)
    assert app.extensions["pubsub"] is pubsub and pubsub.url == redis_url

    @app.post("/say")
    async def say() -> str:
        await pubsub.publish(channel, "hi")
        return "sent"

    async with app.test_app() as test_app:
        assert pubsub.backend is not None
        async with pubsub.subscribe(channel) as messages:
            response = await test_app.test_client().post("/say")
            assert await response.get_data(as_text=True) == "sent"
            assert await messages.get(timeout=5) == "hi"
    assert pubsub.backend is None
    assert not [task for task in asyncio.all_tasks() if task.get_name().startswith("quaver.pubsub")]


@pytest.mark.parametrize(
    "url, reason",
    [
        ("kafka://127.0.0.1", "names no backend"),
        ("redis://127.0.0.1:port/0", "cannot be parsed"),
        ("redis:///0", "names no host"),
        ("127.0.0.1:6379", "names no backend"),
    ],
)
async def test_a_url_naming_no_backend_stops_start_up(url, reason):
    app = Quaver(__name__)
    PubSub(app, url)
    with pytest.raises(InvalidURL, match=reason):
        await PubSub(url=url).start()
    with pytest.raises(Exception, match=f"InvalidURL: pub/sub URL .* {reason}"):
        async with app.test_app():
            pass


def test_app_run_with_a_bad_url_exits_1_with_a_one_line_reason(tmp_path):
    (tmp_path / "app.py").write_text(
        "from quaver import Quaver\nfrom quaver.pubsub import PubSub\n"
        "app = Quaver(__name__)\nPubSub(app, 'mqtt://broker')\n"
        f"app.run(port={free_port()})\n"
    )
    run = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert run.returncode == 1
    assert " * The app failed in start-up: InvalidURL: pub/sub URL 'mqtt://broker' names no backend" in run.stderr


@pytest.mark.parametrize("kind", ["redis", "postgres"])
async def test_a_broker_down_at_start_up_is_waited_for(kind, channel):
    server = RedisServer() if kind == "redis" else PostgresCluster()
    pubsub = PubSub(url=server.url, publish_timeout=3)
    try:
        started = time.monotonic()
        await pubsub.start()  # no error: the broker is waited for, as after losing it
        async with pubsub.subscribe(channel) as messages:
            assert time.monotonic() - started < 5
            assert not pubsub.connected
            with pytest.raises(PublishError):
                await pubsub.publish(channel, "nobody hears this")
            assert time.monotonic() - started < 8
            server.start()
            wait_for_port(server.port)
            deadline = time.monotonic() + 5
            while not pubsub.connected:
                assert time.monotonic() < deadline, "did not connect within 5 s of the broker's start"
                await asyncio.sleep(0.05)
            await pubsub.publish(channel, "now")
            assert await messages.get(timeout=5) == "now"
    finally:
        await pubsub.close()
        if kind == "redis":
            server.kill()
        else:
            server.__exit__(None, None, None)


async def test_redis_over_a_unix_socket(tmp_path, channel):
    path = tmp_path / "redis.sock"
    server = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", str(path), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not path.exists():
            assert time.monotonic() < deadline, "redis-server made no socket"
            await asyncio.sleep(0.02)
        pubsub = PubSub(url=f"unix://{path}?db=0")
        try:
            async with pubsub.subscribe(channel) as messages:
                await pubsub.publish(channel, "over a unix socket")
                assert await messages.get(timeout=5) == "over a unix socket"
        finally:
            await pubsub.close()
    finally:
        server.kill()
        server.wait(10)


async def test_many_channels_subscribed_at_once_on_a_fresh_connection(url, channel):
    pubsub = PubSub(url=url)
    subscriptions = [pubsub.subscribe(f"{channel}-{number}") for number in range(20)]
    try:
        await asyncio.gather(*(subscription.__aenter__() for subscription in subscriptions))
        for number in range(20):
            await pubsub.publish(f"{channel}-{number}", number)
        assert [await subscription.get(timeout=5) for subscription in subscriptions] == list(range(20))
    finally:
        for subscription in subscriptions:
            await subscription.__aexit__(None, None, None)
        await pubsub.close()


@pytest.fixture
def tls_redis(tmp_path):
    """A redis-server of this test's own answering TLS only, with a certificate
    from a throwaway CA: yields (port, the CA's PEM file)."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    cert.private_key_pem.write_to_path(tmp_path / "key.pem")
    cert.cert_chain_pems[0].write_to_path(tmp_path / "cert.pem")
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(tmp_path / "cert.pem"), "--tls-key-file", str(tmp_path / "key.pem"),
         "--tls-ca-cert-file", str(tmp_path / "ca.pem"), "--tls-auth-clients", "no",
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield port, tmp_path / "ca.pem"
    finally:
        server.kill()
        server.wait(10)


async def test_rediss_carries_messages_over_tls(tls_redis, channel):
    port, ca = tls_redis
    pubsub = PubSub(url=f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca}")
    try:
        await pubsub.start()
        async with pubsub.subscribe(channel) as messages:
            await pubsub.publish(channel, {"over": "tls"})
            assert await messages.get(timeout=5) == {"over": "tls"}
    finally:
        await pubsub.close()


async def test_rediss_to_a_server_whose_certificate_is_not_trusted_fails_publishing_at_once(tls_redis, channel):
    port, _ca = tls_redis  # the throwaway CA is not given: the server's certificate does not verify
    pubsub = PubSub(url=f"rediss://127.0.0.1:{port}/0")
    try:
        started = time.monotonic()
        with pytest.raises(PublishError) as refused:
            await pubsub.publish(channel, "refused")
        assert time.monotonic() - started < 5
        assert "certificate" in str(refused.value).lower(), refused.value
    finally:
        await pubsub.close()
