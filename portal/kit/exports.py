"""A package's public names, each imported from its module when first used (PEP 562).

A package `__init__` that imports its modules to re-export their names makes whoever imports any one of
them pay for all: `from portal.sbom.model import Inventory` runs `portal/sbom/__init__.py` first, and with
it the SBOM parser and renderers. A package whose modules are not all light declares its names instead:

    if TYPE_CHECKING:  # what the type checker reads
        from portal.sbom.parse import parse_sbom
    __all__ = ["parse_sbom"]
    __getattr__ = lazy_exports(__name__, {"parse": ["parse_sbom"]})

`tests/test_lazy_exports.py` holds each such package to its `__all__`.
"""

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(package: str, modules: Mapping[str, Sequence[str]]) -> Callable[[str], Any]:
    """The package's `__getattr__`: `modules` maps each of its modules (relative name) to the names it
    exports."""
    where = {name: f"{package}.{module}" for module, names in modules.items() for name in names}
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # found directly from now on
        return value

    return __getattr__
