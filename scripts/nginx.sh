#!/usr/bin/env bash
# Makes sure Debian's nginx is installed, for the test that runs examples/chat
# in two processes behind a proxy (tests/test_example_chat.py). The test starts
# an nginx of its own, with its own config on a free port; this script does not
# start one, and stops the one the package may start on installing.
set -euo pipefail
if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "nginx.sh: installing nginx from Debian's packages" >&2
$SUDO apt-get update -q >&2
# policy-rc.d 101: the package's own service is not started (nothing listens on port 80).
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >&2 || \
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx >&2
