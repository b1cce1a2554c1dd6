#!/bin/sh
# Install the browser used by the browser tests (pytest -m browser): Debian's chromium,
# driven by playwright's Python API through executable_path=/usr/bin/chromium. Playwright's
# own browser download is not used. Run as root (or through sudo) on a Debian-based image.
set -eu

if [ -x /usr/bin/chromium ]; then
    echo "chromium is already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-liberation
/usr/bin/chromium --version
