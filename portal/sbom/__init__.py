"""SBOMs: reading an uploaded CycloneDX or SPDX document into a component inventory, and rendering an
image version's inventory as CycloneDX 1.5 and SPDX 2.3."""

from portal.sbom.model import (
    MAX_SBOM_BYTES,
    Component,
    ComponentRef,
    ImageSubject,
    Inventory,
    SbomError,
    SbomProblem,
    inventory_components,
)
from portal.sbom.parse import parse_sbom
from portal.sbom.render_cyclonedx import render_cyclonedx
from portal.sbom.render_spdx import render_spdx

__all__ = [
    "MAX_SBOM_BYTES",
    "Component",
    "ComponentRef",
    "ImageSubject",
    "Inventory",
    "SbomError",
    "SbomProblem",
    "inventory_components",
    "parse_sbom",
    "render_cyclonedx",
    "render_spdx",
]
