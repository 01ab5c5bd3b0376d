"""Shared fixtures: a fresh app per test, its test client, and a free port."""

from __future__ import annotations

import socket

import pytest

from quaver import Quaver


@pytest.fixture
def app() -> Quaver:
    app = Quaver(__name__)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Quaver):
    return app.test_client()


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
