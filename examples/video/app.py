"""A video player page whose <video> element streams and seeks through files
served with HTTP Range support.

Put video files (``.mp4``, ``.webm``, ...) in ``examples/video/media`` (or
point MEDIA_FOLDER elsewhere), run ``python examples/video/app.py`` and open
http://127.0.0.1:5000.
"""

from __future__ import annotations

import argparse
import mimetypes
import os
from pathlib import Path
from typing import Any

from quaver import Quaver, abort, request, send_from_directory
from quaver.templating import render_template

app = Quaver(__name__)
app.config.from_mapping(
    MEDIA_FOLDER=os.environ.get("VIDEO_MEDIA_FOLDER", str(Path(__file__).parent / "media")),
    MEDIA_MAX_AGE=3600,
)
PLAYABLE = ("video/", "audio/")


def media_files() -> list[str]:
    """The names of the playable files in the media folder, sorted."""
    folder = Path(app.config["MEDIA_FOLDER"])
    if not folder.is_dir():
        return []
    return sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.is_file() and (mimetypes.guess_type(entry.name)[0] or "").startswith(PLAYABLE)
    )


@app.get("/")
async def index() -> str:
    files = media_files()
    chosen = request.args.get("name") or (files[0] if files else None)
    if chosen is not None and chosen not in files:
        abort(404)
    kind = mimetypes.guess_type(chosen)[0] if chosen else None
    return await render_template("video.html", files=files, chosen=chosen, kind=kind)


@app.route("/media/<path:name>", methods=["GET", "HEAD"])
async def media(name: str) -> Any:
    # send_from_directory answers Range (206, 416), If-Range, If-None-Match and
    # If-Modified-Since (304), reads the file in chunks, and 404s anything
    # outside MEDIA_FOLDER. The browser asks for ranges as it plays and seeks.
    response = await send_from_directory(app.config["MEDIA_FOLDER"], name, max_age=app.config["MEDIA_MAX_AGE"])
    response.timeout = None  # watching takes longer than RESPONSE_TIMEOUT; the browser sets the pace
    return response


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--media", help="the folder of video files (default: examples/video/media)")
    arguments = parser.parse_args()
    if arguments.media:
        app.config["MEDIA_FOLDER"] = arguments.media
    app.run(host=arguments.host, port=arguments.port)
