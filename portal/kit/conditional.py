"""Conditional GETs: strong ETags and `If-None-Match` (RFC 9110 section 13.1.2)."""


def strong_etag(digest: str) -> str:
    return f'"{digest}"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when the client already holds `etag`: the header lists it (compared weakly, as the RFC says
    for If-None-Match) or is `*`."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False
