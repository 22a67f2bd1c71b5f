import base64
import json
from datetime import timedelta

import httpx
import jwt

from portal.auth.tokens import AccessTokenCodec
from portal.kit.clock import utcnow
from portal.runtime import Runtime
from portal.users.models import Role
from portal.users.service import UserService
from tests.factories import OPERATOR, make_caller, make_tenant


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def _me(client: httpx.AsyncClient, token: str, tenant: str) -> httpx.Response:
    return await client.get("/api/auth/me", headers={"X-Tenant": tenant, "Authorization": f"Bearer {token}"})


async def test_bad_tokens_are_refused(runtime: Runtime, client: httpx.AsyncClient) -> None:
    caller = await make_caller(runtime, client)
    slug, key = caller.tenant.slug, runtime.settings.effective_secret_key
    header, payload, signature = caller.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    settings = runtime.settings

    def codec(**changes: object) -> AccessTokenCodec:
        values = {
            "key": key,
            "issuer": settings.jwt_issuer,
            "audience": settings.jwt_audience,
            "ttl_seconds": 900,
        }
        values.update(changes)
        return AccessTokenCodec(**values)  # type: ignore[arg-type]

    cases = {
        "tampered": f"{header}.{_b64({**claims, 'role': 'admin', 'sub': 'someone-else'})}.{signature}",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{payload}.",
        "wrong audience": codec(audience="another-api").issue(caller.user.id, caller.tenant.id, "user"),
        "wrong issuer": codec(issuer="evil").issue(caller.user.id, caller.tenant.id, "user"),
        "wrong key": codec(key="not-the-key-" * 8).issue(caller.user.id, caller.tenant.id, "user"),
        "wrong typ": jwt.encode(claims, key, algorithm="HS256", headers={"typ": "JWT"}),
        "HS512": jwt.encode(claims, key, algorithm="HS512", headers={"typ": "at+jwt"}),
        "garbage": "not-a-jwt",
    }
    for name, token in cases.items():
        response = await _me(client, token, slug)
        assert (name, response.status_code, response.json()["error"]) == (name, 401, "UNAUTHORIZED")


async def test_expired_token_says_so(runtime: Runtime, client: httpx.AsyncClient) -> None:
    caller = await make_caller(runtime, client)
    settings = runtime.settings
    past = AccessTokenCodec(
        settings.effective_secret_key,
        settings.jwt_issuer,
        settings.jwt_audience,
        900,
        clock=lambda: utcnow() - timedelta(hours=1),
    )
    response = await _me(client, past.issue(caller.user.id, caller.tenant.id, "user"), caller.tenant.slug)
    assert (response.status_code, response.json()["error"]) == (401, "TOKEN_EXPIRED")


async def test_missing_or_malformed_bearer(runtime: Runtime, client: httpx.AsyncClient) -> None:
    caller = await make_caller(runtime, client)
    for authorization in (None, "Basic abc", "Bearer ", "Bearer"):
        headers = {"X-Tenant": caller.tenant.slug}
        if authorization is not None:
            headers["Authorization"] = authorization
        response = await client.get("/api/auth/me", headers=headers)
        assert (response.status_code, response.json()["error"]) == (401, "UNAUTHORIZED")


async def test_token_of_another_tenant_is_a_mismatch(runtime: Runtime, client: httpx.AsyncClient) -> None:
    caller = await make_caller(runtime, client)
    other = await make_tenant(runtime, "other")
    response = await _me(client, caller.access_token, other.slug)
    assert (response.status_code, response.json()["error"]) == (403, "TENANT_MISMATCH")
    unknown = await _me(client, caller.access_token, "no-such-tenant")
    assert (unknown.status_code, unknown.json()["error"]) == (403, "TENANT_MISMATCH")


async def test_a_disabled_user_cannot_use_a_live_token(runtime: Runtime, client: httpx.AsyncClient) -> None:
    caller = await make_caller(runtime, client)
    assert (await _me(client, caller.access_token, caller.tenant.slug)).status_code == 200
    async with runtime.db.transaction() as session:
        await UserService(session, runtime).set_active(
            OPERATOR.within(caller.tenant.ref), caller.user.email, False
        )
    response = await _me(client, caller.access_token, caller.tenant.slug)
    assert (response.status_code, response.json()["error"]) == (401, "UNAUTHORIZED")


async def test_a_role_change_applies_to_live_tokens(runtime: Runtime, client: httpx.AsyncClient) -> None:
    caller = await make_caller(runtime, client, Role.ADMIN)
    async with runtime.db.transaction() as session:
        await UserService(session, runtime).set_role(
            OPERATOR.within(caller.tenant.ref), caller.user.email, Role.VIEWER
        )
    response = await _me(client, caller.access_token, caller.tenant.slug)
    assert response.json()["user"]["role"] == "viewer"
