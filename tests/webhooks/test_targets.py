import re
import socket
import ssl
from collections.abc import Awaitable, Callable

import httpx
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from portal.webhooks.schemas import webhook_url_pattern
from portal.webhooks.targets import (
    TargetRefused,
    build_client,
    check_url,
    resolve_public,
)
from tests.webhooks.conftest import ConnectionCounter, LoopbackReceiver, SelfSignedCertificate


def static_resolver(
    answers: dict[str, list[str]], calls: list[str] | None = None
) -> Callable[[str, int], Awaitable[list[str]]]:
    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "unknown host")
        return answers[host]

    return resolve


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/portal",
        "https://hooks.example.com:8443/x?y=1",
        "https://93.184.216.34/hook",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
    ],
)
def test_check_url_accepts_https_targets(url: str) -> None:
    check_url(url, allow_private=False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/", "https"),
        ("ftp://hooks.example.com/", "https"),
        ("hooks.example.com/x", "https"),
        ("https://user:pw@hooks.example.com/", "user name"),
        ("https:///nohost", "no host"),
        ("https://127.0.0.1/", "loopback"),
        ("https://10.1.2.3/", "private"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://[::1]/", "loopback"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("https://[::ffff:169.254.169.254]/", "link-local"),
        ("https://100.64.0.1/", "carrier-grade"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://224.0.0.1/", "multicast"),
        ("https://[64:ff9b::a00:1]/", "private"),
        ("https://[2002:c0a8:101::1]/", "6to4"),
        ("https://[fd00::1]/", "private"),
        ("https://[fe80::1]/", "link-local"),
    ],
)
def test_check_url_refuses_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(TargetRefused, match=reason):
        check_url(url, allow_private=False)


def test_check_url_with_allow_private_takes_http_and_local_addresses() -> None:
    check_url("http://127.0.0.1:8080/hook", allow_private=True)
    check_url("http://localhost/hook", allow_private=True)
    with pytest.raises(TargetRefused):
        check_url("ftp://localhost/", allow_private=True)
    with pytest.raises(TargetRefused):
        check_url("http://u:p@localhost/", allow_private=True)


@pytest.mark.parametrize(
    "answer",
    [
        ["127.0.0.1"],
        ["10.0.0.5"],
        ["192.168.1.1"],
        ["172.16.0.1"],
        ["169.254.169.254"],
        ["100.100.100.200"],
        ["::1"],
        ["::ffff:127.0.0.1"],
        ["::ffff:10.0.0.1"],
        ["64:ff9b::7f00:1"],
        ["64:ff9b:1::1"],
        ["2001:0:4136:e378:8000:63bf:3fff:fdd2"],
        ["fc00::1"],
        ["240.0.0.1"],
        ["255.255.255.255"],
        ["93.184.216.34", "127.0.0.1"],  # one bad address spoils the target
    ],
)
async def test_resolve_public_refuses_any_non_public_address(answer: list[str]) -> None:
    resolver = static_resolver({"hooks.example.com": answer})
    with pytest.raises(TargetRefused, match=r"hooks\.example\.com resolves to"):
        await resolve_public("hooks.example.com", 443, False, resolver=resolver)
    assert await resolve_public("hooks.example.com", 443, True, resolver=resolver)


async def test_resolve_public_returns_public_addresses_in_order() -> None:
    resolver = static_resolver(
        {"h.example": ["93.184.216.34", "2606:4700::1", "93.184.216.34", "64:ff9b::808:808"]}
    )
    addresses = await resolve_public("h.example", 443, False, resolver=resolver)
    assert [str(a) for a in addresses] == ["93.184.216.34", "2606:4700::1", "64:ff9b::808:808"]


async def test_resolve_public_uses_the_system_resolver() -> None:
    with pytest.raises(TargetRefused, match="loopback"):
        await resolve_public("localhost", 443, False)
    assert "127.0.0.1" in {str(a) for a in await resolve_public("localhost", 443, True)}
    with pytest.raises(OSError):
        await resolve_public("no-such-host.invalid", 443, True)


async def test_http_to_loopback_when_private_targets_are_allowed(http_receiver: LoopbackReceiver) -> None:
    async with build_client(allow_private=True) as client:
        response = await client.post(http_receiver.url("/ok", host="localhost"), content=b"{}")
    assert response.status_code == 204
    assert http_receiver.requests[0].headers["host"] == f"localhost:{http_receiver.port}"
    assert http_receiver.requests[0].headers["user-agent"].startswith("Portal-Webhooks/")


@pytest.mark.parametrize("answer", [["127.0.0.1"], ["::ffff:127.0.0.1"], ["93.184.216.34", "127.0.0.1"]])
async def test_refused_before_any_connection(tcp_listener: ConnectionCounter, answer: list[str]) -> None:
    url = f"https://hooks.example.com:{tcp_listener.port}/hook"
    resolver = static_resolver({"hooks.example.com": answer})
    async with build_client(allow_private=False, resolver=resolver) as client:
        with pytest.raises(TargetRefused):
            await client.post(url, content=b"{}")
    assert tcp_listener.arrived() == 0

    # The same request with private targets allowed does reach the listener, so the count above is real.
    async with build_client(allow_private=True, resolver=resolver, timeout=0.5) as client:
        with pytest.raises(httpx.HTTPError):
            await client.post(url, content=b"{}")
    assert tcp_listener.arrived() == 1


async def test_localhost_is_refused_before_any_lookup(tcp_listener: ConnectionCounter) -> None:
    async with build_client(allow_private=False) as client:
        with pytest.raises(TargetRefused, match="localhost is a local name"):
            await client.post(f"https://localhost:{tcp_listener.port}/", content=b"{}")
        with pytest.raises(TargetRefused, match="https"):
            await client.post(f"http://127.0.0.1:{tcp_listener.port}/", content=b"{}")
    assert tcp_listener.arrived() == 0


async def test_tls_connects_to_the_checked_ip_with_sni_and_certificate_of_the_hostname(
    https_receiver: LoopbackReceiver, certificate: SelfSignedCertificate
) -> None:
    calls: list[str] = []
    # `receiver.test` is in no DNS: reaching the server proves the transport used the address it checked.
    resolver = static_resolver({"receiver.test": ["127.0.0.1"]}, calls)
    async with build_client(
        allow_private=True, ssl_context=certificate.client_context(), resolver=resolver
    ) as client:
        first = await client.post(https_receiver.url("/echo", host="receiver.test"), content=b'{"n":1}')
        second = await client.post(https_receiver.url("/echo", host="receiver.test"), content=b'{"n":2}')
    assert (first.status_code, first.content) == (200, b'{"n":1}')
    assert second.content == b'{"n":2}'
    assert https_receiver.server_names == ["receiver.test"]
    assert [r.headers["host"] for r in https_receiver.requests] == [
        f"receiver.test:{https_receiver.port}"
    ] * 2
    # One pooled connection, resolved and checked once.
    assert calls == ["receiver.test"]
    assert https_receiver.requests[0].peer == https_receiver.requests[1].peer


async def test_tls_certificate_is_checked_against_the_hostname_not_the_ip(
    https_receiver: LoopbackReceiver, certificate: SelfSignedCertificate
) -> None:
    resolver = static_resolver({"impostor.test": ["127.0.0.1"]})
    async with build_client(
        allow_private=True, ssl_context=certificate.client_context(), resolver=resolver
    ) as client:
        for host in ("impostor.test", "127.0.0.1"):
            with pytest.raises(httpx.ConnectError) as caught:
                await client.post(https_receiver.url("/ok", host=host), content=b"{}")
            assert isinstance(caught.value.__context__, ssl.SSLCertVerificationError) or "certificate" in str(
                caught.value
            )
    assert https_receiver.requests == []


async def test_system_trust_store_rejects_a_self_signed_receiver(https_receiver: LoopbackReceiver) -> None:
    resolver = static_resolver({"receiver.test": ["127.0.0.1"]})
    async with build_client(allow_private=True, resolver=resolver) as client:
        with pytest.raises(httpx.ConnectError, match="certificate"):
            await client.post(https_receiver.url("/ok", host="receiver.test"), content=b"{}")


async def test_redirects_are_not_followed(http_receiver: LoopbackReceiver) -> None:
    async with build_client(allow_private=True) as client:
        response = await client.post(http_receiver.url("/redirect"), content=b"{}")
    assert response.status_code == 302
    assert len(http_receiver.requests) == 1


@pytest.mark.parametrize("allow_private", [False, True])
@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_every_url_the_documented_pattern_allows_is_accepted(
    allow_private: bool, data: st.DataObject
) -> None:
    url = data.draw(st.from_regex(webhook_url_pattern(allow_private), fullmatch=True))
    assume("\n" not in url)
    check_url(url, allow_private)


def test_the_documented_pattern_refuses_what_production_refuses() -> None:
    pattern = re.compile(webhook_url_pattern(False))
    for url in (
        "http://hooks.example.com/",
        "https://10.0.0.1/",
        "https://[::1]/",
        "https://u:p@x.example/",
        "0",
    ):
        assert not pattern.fullmatch(url), url
    assert pattern.fullmatch("https://hooks.example.com:8443/portal?x=1")
