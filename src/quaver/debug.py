"""The error page for an unhandled exception in debug mode.

``traceback_response(error)`` is a 500 response whose HTML shows the
exception and each frame with the code around it. It is for debug mode
only: it shows source code and file paths. Outside debug mode the app
answers with the plain 500 page of ``InternalServerError`` (or the app's
500 handler), which shows neither.
"""

from __future__ import annotations

import linecache
import traceback

from markupsafe import escape

from .wrappers.response import Response

__all__ = ("render_traceback", "traceback_response")

_CONTEXT_LINES = 2

#: The debug page's HTML; ``render_traceback`` fills in {title} and {chains}.
TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} // Quaver debug</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
h1 {{ font-size: 1.4em; color: #a00; }}
.frame {{ border: 1px solid #ddd; border-radius: 4px; margin: 1em 0; }}
.where {{ background: #f4f4f4; padding: .4em .8em; font-family: monospace; }}
pre {{ margin: 0; padding: .4em .8em; }}
.line {{ display: block; }}
.current {{ background: #fee; font-weight: bold; }}
.note {{ color: #666; font-size: .9em; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p class="note">Shown because the app is in debug mode. Never run with debug on where others can reach it.</p>
{chains}
</body>
</html>
"""


def _frame_html(frame: traceback.FrameSummary) -> str:
    lineno = frame.lineno or 0
    first = max(1, lineno - _CONTEXT_LINES)
    lines = []
    for number in range(first, lineno + _CONTEXT_LINES + 1):
        source = linecache.getline(frame.filename, number)
        if not source and number != lineno:
            continue
        css = "line current" if number == lineno else "line"
        lines.append(f'<span class="{css}">{number:>5} {escape(source.rstrip())}</span>')
    return (
        '<div class="frame">'
        f'<div class="where">File "{escape(frame.filename)}", line {lineno}, in {escape(frame.name)}</div>'
        f"<pre>{''.join(lines)}</pre>"
        "</div>"
    )


def _chain_html(error: BaseException) -> str:
    """Each exception of the chain (causes first), with its frames."""
    parts: list[str] = []
    summary = traceback.TracebackException.from_exception(error)
    chain: list[traceback.TracebackException] = []
    current: traceback.TracebackException | None = summary
    while current is not None:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    for position, exc in enumerate(reversed(chain)):
        if position:
            parts.append('<p class="note">The exception above led to this one:</p>')
        heading = "".join(exc.format_exception_only()).strip()
        parts.append(f"<h2>{escape(heading)}</h2>")
        parts.extend(_frame_html(frame) for frame in exc.stack)
    return "\n".join(parts)


def render_traceback(error: BaseException) -> str:
    """The debug page for ``error`` as an HTML string."""
    title = "".join(traceback.format_exception_only(type(error), error)).strip()
    return TEMPLATE.format(title=escape(title), chains=_chain_html(error))


async def traceback_response(error: BaseException, response_class: type[Response] | None = None) -> Response:
    """A 500 response showing ``error``'s traceback; for debug mode only.

    A coroutine, as in Quart: ``response = await traceback_response(error)``.
    """
    if response_class is None:
        response_class = Response
    return response_class(render_traceback(error), 500, mimetype="text/html")
