"""Portal: a multi-tenant service for a vendor of hardened container images."""

__version__ = "0.1.0"
