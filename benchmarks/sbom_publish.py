"""How long publishing a large SBOM takes: parse + render both formats, and the validators kept in tests.

Run: python benchmarks/sbom_publish.py [component count, default 5000]
"""

import argparse
import hashlib
import json
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.sbom import ImageSubject, parse_sbom, render_cyclonedx, render_spdx

LICENSES = ["MIT", "Apache-2.0", "BSD-3-Clause", "GPL-2.0-only", "ISC", "MPL-2.0 OR MIT", "Custom EULA"]
ECOSYSTEMS = [("pypi", ""), ("npm", ""), ("maven", "org.example"), ("golang", "github.com/example")]


def generate_cyclonedx(count: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    components: list[dict[str, Any]] = []
    for index in range(count):
        ecosystem, namespace = ECOSYSTEMS[index % len(ECOSYSTEMS)]
        name, version = f"package-{index}", f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}"
        prefix = f"{namespace}/" if namespace else ""
        purl = f"pkg:{ecosystem}/{prefix}{name}@{version}"
        digest = hashlib.sha256(purl.encode()).hexdigest()
        license_ = rng.choice(LICENSES)
        choice = {"expression": license_} if " OR " in license_ else {"license": {"id": license_}}
        if license_ == "Custom EULA":
            choice = {"license": {"name": license_}}
        components.append(
            {
                "type": "library",
                "bom-ref": f"{purl}?package-id={index:08x}",
                "supplier": {"name": f"Vendor {index % 97}"},
                "name": name,
                "version": version,
                "hashes": [
                    {"alg": "SHA-256", "content": digest},
                    {"alg": "SHA-1", "content": hashlib.sha1(purl.encode()).hexdigest()},
                ],
                "licenses": [choice],
                "purl": purl,
            }
        )
    dependencies = [
        {
            "ref": components[index]["bom-ref"],
            "dependsOn": sorted(
                {components[rng.randrange(index + 1, count)]["bom-ref"] for _ in range(rng.randint(1, 4))}
            ),
        }
        for index in range(count - 1)
        if rng.random() < 0.6
    ]
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.UUID(int=seed)}",
        "version": 1,
        "metadata": {"timestamp": "2024-05-01T12:00:00.123Z"},
        "components": components,
        "dependencies": dependencies,
    }
    return json.dumps(document).encode()


def timed(label: str, action: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - start
    print(f"  {label:<58} {elapsed:8.3f} s")
    return result, elapsed


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("count", type=int, nargs="?", default=5000, help="SBOM components (default 5000)")
    count = parser.parse_args().count
    print(f"machine: nproc={os.cpu_count()}, cpu={cpu_model()}, python={platform.python_version()}")
    data = generate_cyclonedx(count)
    print(f"input: CycloneDX 1.5, {count} components, {len(data) / 1e6:.1f} MB")
    subject = ImageSubject(
        name="python",
        repository="registry.example.com/python",
        digest="sha256:" + "ab" * 32,
        tags=("3.12",),
        architectures=("amd64",),
        published_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        version_id=str(uuid.UUID(int=1)),
    )

    print("request path (publish + both downloads):")
    parse_sbom(data)  # the first call compiles the schema; a running service has done that already
    inventory, parse_s = timed(
        "parse_sbom (schema validation included, schema warm)", lambda: parse_sbom(data)
    )
    cdx, cdx_s = timed("render_cyclonedx", lambda: render_cyclonedx(subject, inventory))
    spdx, spdx_s = timed("render_spdx", lambda: render_spdx(subject, inventory))
    print(f"  {'total':<58} {parse_s + cdx_s + spdx_s:8.3f} s")

    print("test-only validators on the rendered documents:")
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from spdx_tools.spdx.parser.json import json_parser
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    validator = JsonStrictValidator(SchemaVersion.V1_5)
    error, _ = timed("cyclonedx-python-lib JsonStrictValidator", lambda: validator.validate_str(cdx.decode()))
    with tempfile.NamedTemporaryFile(suffix=".spdx.json") as file:
        file.write(spdx)
        file.flush()
        document, _ = timed("spdx-tools json parser", lambda: json_parser.parse_from_file(file.name))
    messages, _ = timed(
        "spdx-tools validate_full_spdx_document", lambda: validate_full_spdx_document(document)
    )
    print(f"validators: cyclonedx {'ok' if error is None else error}, spdx {len(messages)} messages")


if __name__ == "__main__":
    main()
