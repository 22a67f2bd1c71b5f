"""How long `portal` takes to answer, from process start to exit, for help and simple commands.

Run: python benchmarks/cli_startup.py [runs per command, default 15] [--no-bytecode]
Target: `portal --help` and simple commands (a list, a grant) under 0.5 s. Each figure is the median of
the runs, with the fastest beside it, and the median CPU time (user + system) the process used: on a
busy machine the wall time grows with the load (printed) while the CPU time stays close to what an idle
machine's wall time would be. The floor (last line) is a bare Python importing only the libraries every
command needs (Typer, pydantic-settings, SQLAlchemy's asyncio ORM with aiosqlite, rich), run before each
run of a command: the command's CPU time over the floor's, measured side by side, holds better than its
seconds when other processes share the machine.

Python caches each module's bytecode on first import, so a user's second run of any command no longer
compiles anything: the figures are taken that way, after one warm-up run, with PYTHONDONTWRITEBYTECODE
unset even if this shell sets it. `--no-bytecode` measures the other case: every import compiled from
source each time, as in a container started with PYTHONDONTWRITEBYTECODE=1 from an install that compiled
nothing (the runs look for bytecode in an empty PYTHONPYCACHEPREFIX and write none).
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._machine import machine_line

TARGET_S = 0.5
PORTAL = shutil.which("portal", path=str(Path(sys.executable).parent)) or "portal"

COMMANDS: list[tuple[str, ...]] = [
    ("--help",),
    ("images", "publish", "--help"),
    ("tenants", "list"),
    ("tenants", "list", "--json"),
    ("users", "list", "--tenant", "bench"),
    ("images", "list"),
    ("images", "grant", "--tenant", "bench", "--image", "python"),
    ("requests", "list"),
    ("vex", "list"),
    ("api-keys", "list", "--tenant", "bench"),
    ("audit", "list", "--limit", "20"),
    ("findings", "--image", "python"),
    ("db", "status"),
    ("db", "upgrade"),
]


FLOOR = (
    "import asyncio, typer, typer._adapters, pydantic_settings, sqlalchemy.orm, sqlalchemy.ext.asyncio,"
    " sqlalchemy.dialects.sqlite.aiosqlite, rich.console, rich.table"
)


def run(args: tuple[str, ...], env: dict[str, str], cwd: str, program: str = PORTAL) -> tuple[float, float]:
    """Wall and CPU seconds of one `portal` process (or of `program`)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([program, *args], env=env, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{program} {' '.join(args)} failed:\n{done.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", type=int, nargs="?", default=15, help="runs per command (default 15)")
    parser.add_argument(
        "--no-bytecode", action="store_true", help="compile every import from source on every run"
    )
    options = parser.parse_args()
    runs, compiled = options.runs, not options.no_bytecode
    print(machine_line())
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {runs} runs per command")
    print(
        "bytecode: cached after a warm-up run, as a user's Python does"
        if compiled
        else "bytecode: none (PYTHONDONTWRITEBYTECODE=1, nothing cached): every import compiled from source"
    )
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "PORTAL_DATA_DIR": folder,
            "PORTAL_SECRET_KEY": "benchmark-secret-key-" + "x" * 48,
            "COLUMNS": "200",
        }
        env.pop("PORTAL_DATABASE_URL", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if not compiled:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            env["PYTHONPYCACHEPREFIX"] = str(Path(folder) / "no-bytecode")
        # The data a simple command reads: a tenant, an image to grant, a scan of its version.
        run(("db", "upgrade"), env, folder)
        run(("tenants", "create", "bench", "--name", "Benchmark"), env, folder)
        sbom = Path(folder) / "sbom.json"
        sbom.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": []}')
        publish = ("images", "publish", "--name", "python", "--repository", "registry.example.com/python")
        run((*publish, "--tag", "1", "--digest", "sha256:" + "ab" * 32, "--sbom", str(sbom)), env, folder)
        run(("scan",), env, folder)  # the findings command reads the version's newest scan
        run(("-c", FLOOR), env, folder, sys.executable)  # its bytecode too
        floors: list[tuple[float, float]] = []
        for args in COMMANDS:
            run(args, env, folder)  # warm-up: the first run writes the bytecode it will reuse
            # Each run of the command follows a run of the floor: the ratio compares the two under the
            # same load, which on a shared machine moves during the benchmark.
            floor: list[tuple[float, float]] = []
            samples: list[tuple[float, float]] = []
            for _ in range(runs):
                floor.append(run(("-c", FLOOR), env, folder, sys.executable))
                samples.append(run(args, env, folder))
            floors += floor
            wall = statistics.median(wall for wall, _cpu in samples)
            cpu = statistics.median(cpu for _wall, cpu in samples)
            ratio = cpu / statistics.median(cpu for _wall, cpu in floor)
            verdict = "ok" if wall < TARGET_S else "OVER TARGET"
            print(
                f"  portal {' '.join(args):<52} median {wall:5.2f} s  fastest {min(samples)[0]:5.2f} s"
                f"  cpu {cpu:5.2f} s = floor x{ratio:4.2f}  [{verdict}, target < {TARGET_S} s]"
            )
        print(
            f"  {'floor: python importing the libraries every command needs':<59} "
            f"median {statistics.median(wall for wall, _cpu in floors):5.2f} s"
            f"  fastest {min(floors)[0]:5.2f} s  cpu {statistics.median(cpu for _wall, cpu in floors):5.2f} s"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
