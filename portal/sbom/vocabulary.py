"""The words CycloneDX 1.5 and SPDX 2.3 use for the same things: hash algorithms and component types."""

import re

# CycloneDX spelling <-> SPDX spelling. Algorithms only one side knows (SPDX SHA224, MD2, MD4, MD6,
# ADLER32) are left out, so that every hash the inventory keeps can be written in both formats. So is
# BLAKE3: spdx-tools wants at least 256 hex digits of it, the CycloneDX 1.5 schema at most 128.
CYCLONEDX_TO_SPDX_ALGORITHM = {
    "MD5": "MD5",
    "SHA-1": "SHA1",
    "SHA-256": "SHA256",
    "SHA-384": "SHA384",
    "SHA-512": "SHA512",
    "SHA3-256": "SHA3-256",
    "SHA3-384": "SHA3-384",
    "SHA3-512": "SHA3-512",
    "BLAKE2b-256": "BLAKE2b-256",
    "BLAKE2b-384": "BLAKE2b-384",
    "BLAKE2b-512": "BLAKE2b-512",
}
SPDX_TO_CYCLONEDX_ALGORITHM = {spdx: cdx for cdx, spdx in CYCLONEDX_TO_SPDX_ALGORITHM.items()}

# The CycloneDX 1.5 schema's own pattern for hash content.
_HASH_CONTENT = re.compile(
    r"^([a-fA-F0-9]{32}|[a-fA-F0-9]{40}|[a-fA-F0-9]{64}|[a-fA-F0-9]{96}|[a-fA-F0-9]{128})$"
)

CYCLONEDX_15_TYPES = frozenset(
    {
        "application",
        "framework",
        "library",
        "container",
        "platform",
        "operating-system",
        "device",
        "device-driver",
        "firmware",
        "file",
        "machine-learning-model",
        "data",
    }
)
DEFAULT_TYPE = "library"

SPDX_PURPOSE_TO_TYPE = {
    "APPLICATION": "application",
    "FRAMEWORK": "framework",
    "LIBRARY": "library",
    "CONTAINER": "container",
    "OPERATING-SYSTEM": "operating-system",
    "DEVICE": "device",
    "FIRMWARE": "firmware",
    "FILE": "file",
    "ARCHIVE": "file",
    "INSTALL": "application",
    "SOURCE": "library",
    "OTHER": "library",
}
TYPE_TO_SPDX_PURPOSE = {
    "application": "APPLICATION",
    "framework": "FRAMEWORK",
    "library": "LIBRARY",
    "container": "CONTAINER",
    "operating-system": "OPERATING-SYSTEM",
    "device": "DEVICE",
    "firmware": "FIRMWARE",
    "file": "FILE",
}


def normalize_hash(algorithm: str, content: str) -> tuple[str, str] | None:
    """A (CycloneDX algorithm, lowercase hex) pair, or None when either format could not carry it."""
    if algorithm not in CYCLONEDX_TO_SPDX_ALGORITHM or not _HASH_CONTENT.match(content):
        return None
    return algorithm, content.lower()


def cyclonedx_type(value: str | None) -> str:
    # CycloneDX 1.6 adds types (e.g. cryptographic-asset) that a 1.5 document cannot carry.
    return value if value in CYCLONEDX_15_TYPES else DEFAULT_TYPE


# spdx-tools' test for a purl external reference; a "purl" that fails it is not one, in either format.
_PURL_SHAPE = re.compile(r"^pkg:[^\s]+/[^\s]+$")


def usable_purl(value: object) -> str | None:
    if isinstance(value, str) and _PURL_SHAPE.match(value):
        return value
    return None
