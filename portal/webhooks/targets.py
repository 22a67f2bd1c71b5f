"""Where a webhook may be delivered: https targets on public addresses only (no SSRF).

The address check happens when a connection is opened, on the very addresses that connection then uses:
the transport resolves the host once, refuses the whole target if any address is not public, and connects
to a checked address itself. A DNS answer that changes between check and connect (rebinding) never reaches
the socket, because there is no second lookup. The URL keeps its hostname, so the Host header, TLS SNI and
certificate verification all concern the hostname, and the connection pool is keyed by hostname.
"""

import asyncio
import importlib.util
import ipaddress
import re
import socket
import ssl
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager

import httpcore
import httpx

from portal import __version__

if importlib.util.find_spec("sniffio") is None:
    # httpcore tries `import sniffio` on every request. Without sniffio (recent anyio no longer pulls it
    # in) each failed import searches sys.path again: about a third of a delivery's CPU time, measured.
    # Recording the absence makes the failure instant; the import fails either way.
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Raw resolution: (host, port) -> address strings. Replaceable in tests; the check is always applied after it.
Resolver = Callable[[str, int], Awaitable[list[str]]]

# What a refusal adds, so that whoever meets it on a laptop knows the one switch (and that it is one).
DEVELOPMENT_SETTING = "PORTAL_WEBHOOK_ALLOW_PRIVATE=true"
_PUBLIC_ONLY = (
    f"webhooks go to public addresses only ({DEVELOPMENT_SETTING} on the portal allows others, "
    "for development)"
)
# Names that never lead to a public address (RFC 6761, 6762, 8375; ICANN's `.internal`): refused when a
# webhook is saved, before any lookup, as a private address literal is.
_LOCAL_NAMES = ("localhost", "local", "internal", "home.arpa", "localdomain")

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")


class TargetRefused(Exception):
    """A webhook target that the portal will not connect to; the message is shown to the tenant."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def non_public_reason(ip: IPAddress) -> str | None:
    """Why `ip` is not a public unicast address, or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        # Addresses that carry an IPv4 address are judged by the IPv4 address they reach.
        if ip.ipv4_mapped is not None:
            return non_public_reason(ip.ipv4_mapped)
        if ip in _NAT64_LOCAL_USE:
            return "a local-use NAT64 address"
        if ip in _NAT64_WELL_KNOWN:
            return non_public_reason(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None and non_public_reason(ip.sixtofour) is not None:
            return "a 6to4 address of a non-public IPv4 address"
        if ip.teredo is not None:
            return "a Teredo address"
        if ip.is_site_local:
            return "a site-local address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (this includes cloud metadata services)"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "not a public address"
    return None


def _parse_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?")


def check_url(url: str, allow_private: bool) -> None:
    """Refuse a target URL that can be judged without DNS: scheme, credentials, host, literal addresses."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise TargetRefused(f"not a valid URL: {exc}") from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parsed.scheme not in allowed:
        if parsed.scheme == "http":
            raise TargetRefused(
                f"the URL must start with https:// ({DEVELOPMENT_SETTING} on the portal allows http://, "
                "for development)"
            )
        raise TargetRefused("the URL must start with https://")
    if parsed.userinfo:
        raise TargetRefused("the URL must not contain a user name or password")
    if not parsed.host:
        raise TargetRefused("the URL has no host")
    literal = _parse_ip(parsed.host)
    # httpx reads more as a host than a host name or an address (a `*` after it): the OpenAPI document's
    # grammar refuses that, and so does the service
    if literal is None and _HOST_NAME.fullmatch(parsed.host) is None:
        raise TargetRefused(f"{parsed.host!r} is not a host name")
    if allow_private:
        return
    if literal is not None:
        reason = non_public_reason(literal)
        if reason is not None:
            raise TargetRefused(f"{literal} is {reason}; {_PUBLIC_ONLY}")
    elif _is_local_name(parsed.host):
        raise TargetRefused(f"{parsed.host} is a local name, never a public address; {_PUBLIC_ONLY}")


def _is_local_name(host: str) -> bool:
    name = host.lower().rstrip(".")
    return any(name == local or name.endswith("." + local) for local in _LOCAL_NAMES)


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


async def resolve_public(
    host: str, port: int, allow_private: bool, *, resolver: Resolver | None = None
) -> list[IPAddress]:
    """Every address of `host`, in resolver order; refused when any one of them is not public.

    Resolution failures propagate as `OSError` (`socket.gaierror`).
    """
    literal = _parse_ip(host)
    raw = [host] if literal is not None else await (resolver or system_resolver)(host, port)
    addresses: list[IPAddress] = []
    for text in raw:
        ip = ipaddress.ip_address(text)
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, f"{host} has no address")
    if not allow_private:
        for ip in addresses:
            reason = non_public_reason(ip)
            if reason is not None:
                raise TargetRefused(f"{host} resolves to {ip}, {reason}; {_PUBLIC_ONLY}")
    return addresses


class _PinnedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Opens each connection to an address checked moments before, never to a name."""

    def __init__(self, allow_private: bool, resolver: Resolver | None) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve_public(host, port, self._allow_private, resolver=self._resolver)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        last_error: Exception | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise TargetRefused("unix sockets are not webhook targets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that only talks to checked public addresses (see the module docstring).

    httpx's own transport takes no network backend, so this one is built on httpx's and httpcore's
    public interfaces: an httpcore connection pool whose backend resolves and checks, and the
    conversion of requests, responses and errors that httpx's transport does.
    """

    def __init__(
        self,
        allow_private: bool,
        *,
        ssl_context: ssl.SSLContext | None = None,
        limits: httpx.Limits = httpx.Limits(max_connections=200, max_keepalive_connections=50),
        resolver: Resolver | None = None,
    ) -> None:
        self.allow_private = allow_private
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context if ssl_context is not None else httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PinnedNetworkBackend(allow_private, resolver),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check_url(str(request.url), self.allow_private)
        assert isinstance(request.stream, httpx.AsyncByteStream)
        sent = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            answer = await self._pool.handle_async_request(sent)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_AnswerStream(answer),
            extensions=answer.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


class _AnswerStream(httpx.AsyncByteStream):
    def __init__(self, answer: httpcore.Response) -> None:
        self._answer = answer

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for chunk in self._answer.aiter_stream():
                yield chunk

    async def aclose(self) -> None:
        with _as_httpx_errors():
            await self._answer.aclose()


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """httpcore's errors as httpx's classes of the same name, as httpx's own transport raises them."""
    try:
        yield
    except httpcore.TimeoutException as exc:
        raise _httpx_error(exc, httpx.TimeoutException) from exc
    except httpcore.NetworkError as exc:
        raise _httpx_error(exc, httpx.NetworkError) from exc
    except httpcore.ProtocolError as exc:
        raise _httpx_error(exc, httpx.ProtocolError) from exc
    except httpcore.UnsupportedProtocol as exc:
        raise httpx.UnsupportedProtocol(str(exc)) from exc


def _httpx_error(exc: Exception, fallback: type[httpx.TransportError]) -> httpx.TransportError:
    kind = getattr(httpx, type(exc).__name__, fallback)
    if not (isinstance(kind, type) and issubclass(kind, httpx.TransportError)):
        kind = fallback
    return kind(str(exc))


def build_client(
    allow_private: bool,
    timeout: float = 15.0,
    *,
    ssl_context: ssl.SSLContext | None = None,
    resolver: Resolver | None = None,
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=PinnedTransport(allow_private, ssl_context=ssl_context, resolver=resolver),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": f"Portal-Webhooks/{__version__}"},
    )
