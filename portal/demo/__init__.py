"""The demo tenant a new user sees: `acme`, with an admin, a user and a viewer, a catalog of hardened
images granted to it, advisories that affect some of them, their scans and two CVE watches."""

from portal.demo.seed import DemoCredentials, DemoReport, run_demo, seed_demo

__all__ = ["DemoCredentials", "DemoReport", "run_demo", "seed_demo"]
