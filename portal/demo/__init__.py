"""The demo tenant a new user sees: `acme`, with an admin, a user and a viewer."""

from portal.demo.seed import DemoCredentials, seed_demo

__all__ = ["DemoCredentials", "seed_demo"]
