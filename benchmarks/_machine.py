"""What every benchmark prints first: the machine its figures come from; and how busy it is."""

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


def machine_load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load {one:.2f} (1 min) {five:.2f} (5 min)"
