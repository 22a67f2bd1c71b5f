from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from portal.api.dependencies import DbSession, RuntimeDep
from portal.api.openapi import error_responses
from portal.auth.guard import CurrentActor, GuardedRoute, TenantOnly, request_origin
from portal.auth.schemas import (
    ActivationIn,
    LoginRequest,
    MeResponse,
    RefreshRequest,
    TenantOut,
    TokenResponse,
    UserOut,
)
from portal.auth.service import AuthService, Session
from portal.users.service import UserService

router = APIRouter(prefix="/api/auth", tags=["auth"], route_class=GuardedRoute)

LoginTenant = Annotated[str, Depends(TenantOnly(rate_limit="login"))]
RefreshTenant = Annotated[str, Depends(TenantOnly(rate_limit="refresh"))]
LogoutTenant = Annotated[str, Depends(TenantOnly())]
# Activation hashes a password: limited per client IP like refreshing (a token itself is not guessable).
ActivateTenant = Annotated[str, Depends(TenantOnly(rate_limit="refresh"))]


def _token_response(session: Session) -> TokenResponse:
    return TokenResponse(
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        expires_in=session.expires_in,
        user=UserOut.model_validate(session.user),
        tenant=TenantOut.model_validate(session.tenant),
    )


@router.post(
    "/login",
    response_model=TokenResponse,
    responses=error_responses(400, 401, 413, 415, 429),
    summary="Log in with email and password",
)
async def login(
    body: LoginRequest, tenant: LoginTenant, db: DbSession, runtime: RuntimeDep, request: Request
) -> TokenResponse:
    session = await AuthService(db, runtime).login(tenant, body.email, body.password, request_origin(request))
    return _token_response(session)


@router.post(
    "/refresh",
    response_model=TokenResponse,
    responses=error_responses(400, 401, 413, 415, 429),
    summary="Exchange a refresh token for a new pair (the old one is spent)",
)
async def refresh(
    body: RefreshRequest, tenant: RefreshTenant, db: DbSession, runtime: RuntimeDep, request: Request
) -> TokenResponse:
    session = await AuthService(db, runtime).refresh(tenant, body.refresh_token, request_origin(request))
    return _token_response(session)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(400, 413, 415),
    summary="End the session of a refresh token (idempotent)",
)
async def logout(
    body: RefreshRequest, tenant: LogoutTenant, db: DbSession, runtime: RuntimeDep, request: Request
) -> Response:
    await AuthService(db, runtime).logout(tenant, body.refresh_token, request_origin(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/activate",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(400, 401, 413, 415, 429),
    summary="Set your first password with the activation token your admin gave you (once, within 72 hours)",
)
async def activate(
    body: ActivationIn, tenant: ActivateTenant, db: DbSession, runtime: RuntimeDep, request: Request
) -> Response:
    await UserService(db, runtime).activate(tenant, body.token, body.password, request_origin(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=MeResponse, responses=error_responses(400, 401, 403))
async def me(actor: CurrentActor) -> MeResponse:
    tenant = actor.acting_tenant
    return MeResponse(
        user=UserOut(id=actor.user_id or "", email=actor.email or "", role=actor.role),
        tenant=TenantOut(id=tenant.id, slug=tenant.slug, name=tenant.name),
    )
