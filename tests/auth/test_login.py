import uuid

import httpx
import pytest
from fastapi import FastAPI

from portal.app import create_app
from portal.config import Settings
from portal.runtime import Runtime
from portal.users.models import Role
from portal.users.service import UserService
from tests import services
from tests.conftest import client_for
from tests.factories import OPERATOR, login, make_tenant, make_user


async def test_login_returns_tokens_user_and_tenant(runtime: Runtime, client: httpx.AsyncClient) -> None:
    tenant = await make_tenant(runtime, "acme", "Acme Corp")
    user, password = await make_user(runtime, tenant, Role.ADMIN, "Admin@Acme.example")

    response = await login(client, "acme", "admin@acme.example", password)

    assert response.status_code == 200
    body = response.json()
    assert body["tokenType"] == "Bearer"
    assert body["expiresIn"] == 900
    assert body["user"] == {"id": user.id, "email": "admin@acme.example", "role": "admin"}
    assert body["tenant"] == {"id": tenant.id, "slug": "acme", "name": "Acme Corp"}
    me = await client.get(
        "/api/auth/me", headers={"X-Tenant": "acme", "Authorization": f"Bearer {body['accessToken']}"}
    )
    assert me.status_code == 200
    assert me.json() == {"user": body["user"], "tenant": body["tenant"]}


async def test_every_failed_login_looks_the_same(runtime: Runtime, app: FastAPI) -> None:
    tenant = await make_tenant(runtime, "acme")
    await make_tenant(runtime, "globex")
    _, password = await make_user(runtime, tenant, Role.USER, "alice@acme.example")
    _disabled, disabled_password = await make_user(runtime, tenant, Role.USER, "bob@acme.example")
    async with runtime.db.transaction() as session:
        await UserService(session, runtime).set_active(OPERATOR.within(tenant.ref), "bob@acme.example", False)

    attempts = [
        ("acme", "alice@acme.example", "wrong password!"),
        ("acme", "nobody@acme.example", password),
        ("acme", "bob@acme.example", disabled_password),
        ("no-such-tenant", "alice@acme.example", password),
        # a tenant that exists, but not hers: a wrong X-Tenant is a wrong password (docs/access.md)
        ("globex", "alice@acme.example", password),
    ]
    answers = []
    for index, (slug, email, pw) in enumerate(attempts):
        async with client_for(app, f"198.51.100.{index + 20}") as client:
            response = await login(client, slug, email, pw)
        answers.append((response.status_code, response.json()))

    assert answers[0] == (401, {"error": "INVALID_CREDENTIALS", "message": "Invalid email or password."})
    assert all(answer == answers[0] for answer in answers)


async def test_login_needs_a_well_formed_tenant(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"X-Tenant": "Not A Slug"}, {"X-Tenant": "-bad"}):
        response = await client.post(
            "/api/auth/login", headers=headers, json={"email": "a@b.c", "password": "x"}
        )
        assert response.status_code == 400
        assert response.json()["error"] == "TENANT_REQUIRED"


async def test_sixth_login_attempt_is_rate_limited(runtime: Runtime, client: httpx.AsyncClient) -> None:
    tenant = await make_tenant(runtime, "acme")
    user, password = await make_user(runtime, tenant)

    statuses = [(await login(client, "acme", user.email, password)).status_code for _ in range(2)]
    statuses += [(await login(client, "acme", user.email, "wrong-password")).status_code for _ in range(3)]
    sixth = await login(client, "acme", user.email, password)

    assert statuses == [200, 200, 401, 401, 401]
    assert sixth.status_code == 429
    assert sixth.json()["error"] == "RATE_LIMITED"
    assert 0 < int(sixth.headers["Retry-After"]) <= 15 * 60
    # the message says when, in seconds and, past a minute and a half, in minutes too
    assert f"retry in {sixth.headers['Retry-After']} seconds (about " in sixth.json()["message"]


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(tmp_path: object, settings: Settings) -> None:
    trusting = settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]})
    runtime = Runtime.build(trusting, rate_limit_namespace=uuid.uuid4().hex)
    app = create_app(runtime=runtime)
    body = {"email": "x@example.com", "password": "whatever"}
    try:
        # From an untrusted peer, a client cannot pick its own key by varying the header.
        async with client_for(app, "198.51.100.1") as client:
            codes = [
                (
                    await client.post(
                        "/api/auth/login",
                        json=body,
                        headers={"X-Tenant": "acme", "X-Forwarded-For": f"192.0.2.{i}"},
                    )
                ).status_code
                for i in range(6)
            ]
        assert codes == [401] * 5 + [429]
        # Behind the trusted proxy, each forwarded client has its own budget.
        async with client_for(app, "10.1.2.3") as proxy:
            codes = [
                (
                    await proxy.post(
                        "/api/auth/login",
                        json=body,
                        headers={"X-Tenant": "acme", "X-Forwarded-For": f"203.0.113.9, 192.0.2.{i}"},
                    )
                ).status_code
                for i in range(6)
            ]
        assert codes == [401] * 6
    finally:
        await runtime.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_rate_limit_is_shared_by_two_instances_through_redis(settings: Settings) -> None:
    shared = settings.model_copy(update={"redis_url": services.redis_url()})
    namespace = f"test-{uuid.uuid4().hex}"  # Redis keeps other runs' keys: never assume it is empty
    first, second = (
        Runtime.build(shared, rate_limit_namespace=namespace),
        Runtime.build(shared, rate_limit_namespace=namespace),
    )
    body = {"email": "x@example.com", "password": "whatever"}
    try:
        async with client_for(create_app(runtime=first)) as a, client_for(create_app(runtime=second)) as b:
            codes = []
            for i in range(6):
                client = a if i % 2 == 0 else b
                codes.append(
                    (
                        await client.post("/api/auth/login", json=body, headers={"X-Tenant": "acme"})
                    ).status_code
                )
        assert codes == [401] * 5 + [429]
    finally:
        await first.close()
        await second.close()


async def test_login_rehashes_a_password_hashed_with_old_parameters(
    runtime: Runtime, client: httpx.AsyncClient, settings: Settings
) -> None:
    tenant = await make_tenant(runtime, "acme")
    user, password = await make_user(runtime, tenant)
    stronger = Runtime.build(settings.model_copy(update={"argon2_time_cost": 2}), rate_limit_namespace="x")
    try:
        async with client_for(create_app(runtime=stronger)) as upgraded:
            assert (await login(upgraded, "acme", user.email, password)).status_code == 200
        async with stronger.db.transaction() as session:
            stored = await UserService(session, stronger).get(OPERATOR.within(tenant.ref), user.email)
        assert "t=2" in stored.password_hash
    finally:
        await stronger.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_login_is_refused_while_the_shared_counter_store_is_down(settings: Settings) -> None:
    nothing_listens = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    runtime = Runtime.build(nothing_listens, rate_limit_namespace=uuid.uuid4().hex)
    try:
        async with client_for(create_app(runtime=runtime)) as client:
            response = await login(client, "acme", "x@example.com", "whatever")
        assert (response.status_code, response.json()["error"]) == (503, "SERVICE_UNAVAILABLE")
    finally:
        await runtime.close()
