"""The tenant a page is for: the first label of the host under `PORTAL_BASE_DOMAIN` (the reference's
"X-Tenant = subdomain"). `acme.localhost:8000` is tenant `acme` with the default base domain."""

from portal.tenants.service import is_valid_slug


def tenant_from_host(host: str | None, base_domain: str) -> str | None:
    """The slug of `<slug>.<base domain>[:port]`, or None for any other host (an address, the base
    domain itself, a deeper or foreign name)."""
    if not host or host.startswith("["):
        return None
    name = host.rsplit(":", 1)[0].lower().rstrip(".")
    suffix = "." + base_domain.lower().strip(".")
    if not name.endswith(suffix):
        return None
    slug = name[: -len(suffix)]
    return slug if is_valid_slug(slug) else None
