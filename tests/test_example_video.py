"""examples/video: the page, ranges and seeks through Uvicorn with httpx, and
a <video> element playing and seeking in headless Chromium (Debian's
``chromium``, driven by Playwright), with media files made by the test."""

from __future__ import annotations

import importlib.util
import math
import os
import sys
import wave
from pathlib import Path

import httpx
import pytest
from test_streaming import uvicorn_serving

from quaver import request

VIDEO = Path(__file__).resolve().parent.parent / "examples" / "video"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
TONE_SECONDS = 600


def write_tone(path: Path, seconds: int, rate: int = 8000) -> None:
    """A WAV file of a 440 Hz tone: media Chromium plays in a <video> element with no codec to spare."""
    second = bytes(int(128 + 60 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(rate))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        for _ in range(seconds):
            out.writeframes(second)


@pytest.fixture
def media(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "clip.mp4").write_bytes(os.urandom(3 * 1024 * 1024 + 123))  # video-like bytes, for ranges
    write_tone(folder / "tone.wav", TONE_SECONDS)
    (folder / "notes.txt").write_text("not a video")
    (tmp_path / "private.mp4").write_bytes(b"PRIVATE")
    return folder


@pytest.fixture
def video(monkeypatch, media: Path):
    """A fresh copy of the example's module, its MEDIA_FOLDER pointing at ``media``."""
    spec = importlib.util.spec_from_file_location("video_example", VIDEO / "app.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "video_example", module)
    spec.loader.exec_module(module)
    module.app.config.update(TESTING=True, MEDIA_FOLDER=str(media))
    return module


async def test_page_shows_a_video_element_for_the_first_file(video) -> None:
    response = await video.app.test_client().get("/")
    page = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<video id="player" controls preload="metadata">' in page
    assert '<source src="/media/clip.mp4" type="video/mp4">' in page
    assert 'href="/?name=tone.wav"' in page
    assert "notes.txt" not in page  # not playable: not listed


async def test_page_for_a_chosen_file_and_404_for_an_unknown_one(video) -> None:
    client = video.app.test_client()
    page = await (await client.get("/?name=tone.wav")).get_data(as_text=True)
    assert '<source src="/media/tone.wav"' in page
    assert (await client.get("/?name=../private.mp4")).status_code == 404


async def test_browser_style_ranges_and_seeks_through_a_real_server(video, media: Path, free_port: int) -> None:
    clip = (media / "clip.mp4").read_bytes()
    size = len(clip)
    async with uvicorn_serving(video.app, free_port) as url, httpx.AsyncClient(base_url=url) as client:
        first = await client.get("/media/clip.mp4", headers={"Range": "bytes=0-"})  # what a <video> asks first
        assert first.status_code == 206
        assert first.headers["content-type"] == "video/mp4"
        assert first.headers["accept-ranges"] == "bytes"
        assert first.headers["content-range"] == f"bytes 0-{size - 1}/{size}"
        assert first.content == clip

        for start in (size // 2, size - 1000, 12345, 0):  # seeking about
            stop = min(start + 256 * 1024, size) - 1
            part = await client.get("/media/clip.mp4", headers={"Range": f"bytes={start}-{stop}"})
            assert part.status_code == 206
            assert part.headers["content-range"] == f"bytes {start}-{stop}/{size}"
            assert part.content == clip[start : stop + 1]

        resumed = await client.get(
            "/media/clip.mp4", headers={"Range": "bytes=100-199", "If-Range": first.headers["etag"]}
        )
        assert (resumed.status_code, resumed.content) == (206, clip[100:200])
        assert (await client.get("/media/clip.mp4", headers={"Range": f"bytes={size}-"})).status_code == 416
        cached = await client.get("/media/clip.mp4", headers={"If-None-Match": first.headers["etag"]})
        assert cached.status_code == 304
        assert first.headers["cache-control"] == "public, max-age=3600"

        for target in (b"/media/../private.mp4", b"/media/%2e%2e/private.mp4", b"/media/..%2Fprivate.mp4"):
            response = await client.get("/", extensions={"target": target})
            assert (target, response.status_code) == (target, 404)


async def test_video_element_plays_and_seeks_in_chromium(video, media: Path, free_port: int) -> None:
    from playwright.async_api import async_playwright

    assert Path(CHROMIUM).exists(), "Chromium is missing: run scripts/setup.sh (apt-get install chromium)"
    asked: list[tuple[str | None, int]] = []

    @video.app.after_request
    async def record(response):
        if request.path.startswith("/media/"):
            asked.append((request.headers.get("Range"), response.status_code))
        return response

    size = (media / "tone.wav").stat().st_size
    async with uvicorn_serving(video.app, free_port) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = await browser.new_page()
            await page.goto(url + "/?name=tone.wav")
            await page.wait_for_function("document.getElementById('player').readyState >= 1", timeout=15000)
            duration = await page.evaluate("document.getElementById('player').duration")
            assert duration == pytest.approx(TONE_SECONDS, abs=1)
            assert asked[0] == ("bytes=0-", 206)

            target = TONE_SECONDS - 100
            await page.evaluate(
                """(target) => new Promise((done) => {
                    const player = document.getElementById('player');
                    player.addEventListener('seeked', done, {once: true});
                    player.currentTime = target;
                })""",
                target,
            )
            # Far past what was loaded: the browser asked for a range starting near that point.
            starts = [int(header.split("=")[1].split("-")[0]) for header, status in asked if header and status == 206]
            assert max(starts) > size * (target - 30) / TONE_SECONDS

            await page.evaluate(
                """() => new Promise((done) => {
                    const player = document.getElementById('player');
                    player.muted = true;
                    player.addEventListener('timeupdate', done, {once: true});
                    player.play();
                })"""
            )
            position = await page.evaluate("document.getElementById('player').currentTime")
            assert target <= position < target + 30
            assert await page.evaluate("document.getElementById('player').error") is None
        finally:
            await browser.close()
    assert all(status in (200, 206) for _, status in asked)
