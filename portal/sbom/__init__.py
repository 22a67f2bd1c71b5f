"""SBOMs: reading an uploaded CycloneDX or SPDX document into a component inventory, and rendering an
image version's inventory as CycloneDX 1.5 and SPDX 2.3. Each name is imported when first used
(`portal.kit.exports`): the inventory's types do not bring the parser and its JSON schemas."""

from typing import TYPE_CHECKING

from portal.kit.exports import lazy_exports

if TYPE_CHECKING:
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
__getattr__ = lazy_exports(
    __name__,
    {
        "model": [
            "MAX_SBOM_BYTES",
            "Component",
            "ComponentRef",
            "ImageSubject",
            "Inventory",
            "SbomError",
            "SbomProblem",
            "inventory_components",
        ],
        "parse": ["parse_sbom"],
        "render_cyclonedx": ["render_cyclonedx"],
        "render_spdx": ["render_spdx"],
    },
)
