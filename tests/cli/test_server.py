"""`portal worker` as a real process: it logs at `PORTAL_LOG_LEVEL` from start to stop, the schema it
migrated first included."""

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PORTAL = str(Path(sys.executable).parent / "portal")


def _lines_until(process: subprocess.Popen[str], event: str, within: float) -> list[dict[str, Any]]:
    """The JSON lines the process writes on stderr, up to the first of `event`."""
    assert process.stderr is not None
    lines: list[dict[str, Any]] = []
    deadline = time.monotonic() + within
    while not any(line.get("event") == event for line in lines):
        left = deadline - time.monotonic()
        assert left > 0, f"no {event} line in {lines}"
        ready, _, _ = select.select([process.stderr], [], [], left)
        if ready:
            text = process.stderr.readline()
            assert text, f"the worker ended without a {event} line: {lines}"
            lines.append(json.loads(text))
    return lines


def test_worker_logs_at_the_level_set_after_migrating_a_fresh_database(tmp_path: Path) -> None:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env = {**clean, "PORTAL_DATA_DIR": str(tmp_path), "PORTAL_LOG_LEVEL": "INFO", "PORTAL_LOG_JSON": "true"}
    process = subprocess.Popen(
        [PORTAL, "worker"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = _lines_until(process, "job_worker_started", within=60)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)

    assert {"event": "job_worker_started", "level": "info"}.items() <= lines[-1].items()
    assert process.returncode == 0
