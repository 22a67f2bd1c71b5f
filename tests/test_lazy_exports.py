"""Packages whose `__init__` names its modules' exports without importing them (`portal.kit.exports`)."""

import importlib
import subprocess
import sys

import pytest

LAZY_PACKAGES = ["portal.catalog", "portal.sbom", "portal.vulns"]


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_exported_name_resolves_to_its_module(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        getattr(module, name)
        assert name in vars(module), name  # kept: the next lookup is a plain attribute
    with pytest.raises(AttributeError, match="no attribute 'nothing_of_that_name'"):
        module.nothing_of_that_name  # noqa: B018


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_importing_the_package_imports_none_of_its_modules(package: str) -> None:
    script = f"import sys, {package}; print(sorted(m for m in sys.modules if m.startswith('{package}.')))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
