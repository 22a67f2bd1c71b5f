"""API keys (admin): create one (its secret shown once), list them, revoke one."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from portal.api.dependencies import DbSession, RuntimeDep
from portal.api.openapi import error_responses
from portal.api.paging import TimePaging
from portal.api.path_ids import PathId
from portal.apikeys.schemas import ApiKeyIn, ApiKeyOut, CreatedApiKeyOut, api_key_out
from portal.apikeys.service import ApiKeyService
from portal.auth.guard import AdminActor, GuardedRoute
from portal.kit.pagination import Page, PageParams

router = APIRouter(prefix="/api/api-keys", tags=["api-keys"], route_class=GuardedRoute)


@router.post(
    "",
    response_model=CreatedApiKeyOut,
    status_code=201,
    summary="Create an API key (admin); the answer is the only time its secret is shown",
    responses=error_responses(400),
)
async def create_api_key(
    body: ApiKeyIn, actor: AdminActor, db: DbSession, runtime: RuntimeDep
) -> CreatedApiKeyOut:
    created = await ApiKeyService(db, runtime).create(actor, body.name, body.role, body.expires_at)
    return CreatedApiKeyOut(**api_key_out(created.key).model_dump(), key=created.secret)


@router.get(
    "",
    response_model=Page[ApiKeyOut],
    summary="The tenant's API keys, newest first (admin)",
    responses=error_responses(400),
)
async def list_api_keys(
    actor: AdminActor, db: DbSession, runtime: RuntimeDep, page: Annotated[PageParams, Depends(TimePaging)]
) -> Page[ApiKeyOut]:
    found = await ApiKeyService(db, runtime).page(actor.tenant_id, page)
    return Page[ApiKeyOut](items=[api_key_out(key) for key in found.items], next_cursor=found.next_cursor)


@router.delete(
    "/{key_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke an API key (admin): refused from then on, in every process",
    responses=error_responses(404),
)
async def revoke_api_key(key_id: PathId, actor: AdminActor, db: DbSession, runtime: RuntimeDep) -> Response:
    await ApiKeyService(db, runtime).revoke(actor, key_id)
    return Response(status_code=204)
