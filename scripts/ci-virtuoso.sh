#!/bin/sh
# Install Virtuoso Open Source from Debian's packages, for the remote-store tests
# (pytest -m virtuoso) and benchmarks/cohort_stores.py. The tests start a private server of their
# own (temporary folder, loopback ports); the system service the package sets up is not used and
# is stopped and disabled here if the package started it. Run as root (or through sudo) on a
# Debian-based image.
set -eu

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi

if ! command -v virtuoso-t >/dev/null 2>&1 || ! command -v isql-vt >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends virtuoso-opensource
fi

# The package may start its own server on the default ports; the tests do not need it.
if command -v service >/dev/null 2>&1 && service --status-all 2>/dev/null | grep -q 'virtuoso-opensource'; then
    $SUDO service virtuoso-opensource-7 stop >/dev/null 2>&1 || true
fi
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled virtuoso-opensource-7 >/dev/null 2>&1; then
    $SUDO systemctl disable --now virtuoso-opensource-7 >/dev/null 2>&1 || true
fi

virtuoso-t -? 2>&1 | sed -n '2p'
