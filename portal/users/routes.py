"""A tenant's users, managed by its admins: list, invite, change role or active state."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from portal.api.dependencies import DbSession, RuntimeDep
from portal.api.openapi import error_responses
from portal.api.paging import TimePaging
from portal.api.path_ids import PathId
from portal.auth.guard import AdminActor, GuardedRoute
from portal.kit.pagination import Page, PageParams
from portal.users.schemas import InvitationOut, TenantUserOut, UserChange, UserIn, tenant_user_out
from portal.users.service import UserService

router = APIRouter(prefix="/api/users", tags=["users"], route_class=GuardedRoute)


@router.get(
    "",
    response_model=Page[TenantUserOut],
    summary="The tenant's users, oldest first (admin)",
    responses=error_responses(400),
)
async def list_users(
    actor: AdminActor, db: DbSession, runtime: RuntimeDep, page: Annotated[PageParams, Depends(TimePaging)]
) -> Page[TenantUserOut]:
    found = await UserService(db, runtime).page(actor.tenant_id, page)
    return Page[TenantUserOut](items=[tenant_user_out(u) for u in found.items], next_cursor=found.next_cursor)


@router.post(
    "",
    response_model=InvitationOut,
    status_code=201,
    summary="Add a user (admin): the answer carries a one-time activation token valid 72 hours",
    responses={
        200: {
            "model": InvitationOut,
            "description": "The user was invited before and has not activated: "
            "a new token replaces the old one.",
        },
        **error_responses(400, 409),
    },
)
async def invite_user(
    body: UserIn, actor: AdminActor, db: DbSession, runtime: RuntimeDep, response: Response
) -> InvitationOut:
    invitation = await UserService(db, runtime).invite(actor, body.email, body.role)
    if not invitation.created:
        response.status_code = 200
    return InvitationOut(
        user=tenant_user_out(invitation.user),
        activation_token=invitation.token,
        activation_expires_at=invitation.expires_at,
    )


@router.patch(
    "/{user_id}",
    response_model=TenantUserOut,
    summary="Change a user's role or disable/enable it (admin); the last active admin stays one",
    responses=error_responses(400, 404, 409),
)
async def change_user(
    user_id: PathId, body: UserChange, actor: AdminActor, db: DbSession, runtime: RuntimeDep
) -> TenantUserOut:
    user = await UserService(db, runtime).update(actor, user_id, body.role, body.active)
    return tenant_user_out(user)
