"""The demo tenant a new user sees: `acme`, with an admin, a user and a viewer, and a
catalog of hardened images granted to it."""

from portal.demo.seed import DemoCredentials, seed_demo

__all__ = ["DemoCredentials", "seed_demo"]
