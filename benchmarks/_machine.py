"""What every benchmark prints first: the machine its figures come from."""

import os
import platform
from pathlib import Path


def machine_line() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"
