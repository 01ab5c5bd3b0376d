"""Shared fixtures: a fresh app per test, its test client, and a free port."""

from __future__ import annotations

import socket

import pytest

from quaver import Quaver

# Tests that need the Quart alias for their whole process: tests/test_under_alias.py
# runs each of them in a pytest of its own, under -p quaver.as_quart.
collect_ignore = ["under_alias"]


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
