"""Blinker signals: Flask's set, plus Quart's websocket, background-task and
serving ones, under the same names.

This module imports nothing from the rest of the package, so any layer may
send them. Senders check ``signal.receivers`` first, so a signal nobody
listens to costs nothing on the request path.
"""

from __future__ import annotations

from blinker import Namespace

#: Always True; kept because Quart code may still check it.
signals_available = True

_signals = Namespace()

# Templates.
template_rendered = _signals.signal("template-rendered")
before_render_template = _signals.signal("before-render-template")

# Requests.
request_started = _signals.signal("request-started")
request_finished = _signals.signal("request-finished")
request_tearing_down = _signals.signal("request-tearing-down")
got_request_exception = _signals.signal("got-request-exception")

# Websockets.
websocket_started = _signals.signal("websocket-started")
websocket_finished = _signals.signal("websocket-finished")
websocket_tearing_down = _signals.signal("websocket-tearing-down")
websocket_received = _signals.signal("websocket-received")
websocket_sent = _signals.signal("websocket-sent")
got_websocket_exception = _signals.signal("got-websocket-exception")

# The app context.
appcontext_tearing_down = _signals.signal("appcontext-tearing-down")
appcontext_pushed = _signals.signal("appcontext-pushed")
appcontext_popped = _signals.signal("appcontext-popped")

# Flashing, background tasks and serving.
message_flashed = _signals.signal("message-flashed")
got_background_exception = _signals.signal("got-background-exception")
got_serving_exception = _signals.signal("got-serving-exception")
