"""The machine a local model runs on, as the one line an eval row keeps (`AttemptRow.machine`).

    machine()   # 'AMD EPYC x2 · llama-cpp-python 0.3.36 (SSE3 ... AVX2 F16C FMA ... OPENMP REPACK)'

llama.cpp's arithmetic follows the CPU features its build uses, so one prompt at one seed can
come back as other tokens on another machine (seen: 5 of 11 attempts of a dev 40 resumed on an
AVX2-only box). The line names the CPU, the cores this process may use, and the
llama-cpp-python build with the features llama.cpp reports as on.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import re
from pathlib import Path


def _cpu() -> str:
    with contextlib.suppress(OSError):  # no /proc (not Linux): the platform's own name below
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _llama_cpp() -> str:
    try:
        import llama_cpp
    except Exception:  # noqa: BLE001 - not installed, or its library will not load
        return "no llama-cpp-python"
    info = llama_cpp.llama_print_system_info()
    info = info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info)
    features = [name for name, on in re.findall(r"(\w+) = (\d+)", info) if on != "0"]
    return f"llama-cpp-python {llama_cpp.__version__} ({' '.join(features)})"


@functools.cache
def machine() -> str:
    return f"{_cpu()} x{_cores()} · {_llama_cpp()}"
