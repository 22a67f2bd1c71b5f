"""Filing, listing and answering requests. Every change records its event in the outbox."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditAction, AuditTarget, record_audit
from portal.auth.actor import Actor
from portal.catalog.service import CatalogService
from portal.errors import Conflict, ErrorDetail, NotFound
from portal.events import record_event
from portal.kit.clock import Clock, utcnow
from portal.kit.ids import is_uuid, new_id
from portal.kit.pagination import PageParams, Slice
from portal.requests.events import FeatureRequestCreated, FeatureRequestUpdated, RequestAuthor
from portal.requests.models import FeatureRequest, FeatureRequestChange, RequestStatus, RequestType
from portal.requests.repository import FeatureRequestRepository, RequestRow
from portal.tenants.models import Tenant


@dataclass(frozen=True)
class NewRequest:
    type: RequestType
    title: str
    description: str
    package_name: str | None = None
    image_id: str | None = None


@dataclass(frozen=True)
class RequestView:
    request: FeatureRequest
    tenant: Tenant
    history: list[FeatureRequestChange]


def package_key(name: str) -> str:
    """Names that differ only in case or surrounding space ask for the same package."""
    return name.strip().lower()


class FeatureRequestService:
    def __init__(self, session: AsyncSession, clock: Clock = utcnow) -> None:
        self.session = session
        self.requests = FeatureRequestRepository(session)
        self.clock = clock

    async def file(self, actor: Actor, new: NewRequest) -> tuple[RequestView, bool]:
        """Files a request; returns it and whether it was created (False: an open duplicate answered)."""
        tenant_id = actor.tenant_id
        if (
            new.image_id is not None
            and await CatalogService(self.session).visible_image(tenant_id, new.image_id) is None
        ):
            # An id this tenant cannot see names nothing, in a body as in a path.
            raise NotFound(
                "No image with this id is available to your tenant.",
                details=[ErrorDetail(path=["imageId"], message="unknown image", code="invalid_format")],
            )
        key = package_key(new.package_name) if new.type == RequestType.PACKAGE and new.package_name else None
        if key is not None:
            existing = await self.requests.open_for_package(tenant_id, key)
            if existing is not None:
                return await self._view(existing, tenant_id), False
        now = self.clock()
        request = FeatureRequest(
            id=new_id(),
            tenant_id=tenant_id,
            type=new.type,
            title=new.title.strip(),
            description=new.description,
            package_name=new.package_name.strip() if new.package_name else None,
            image_id=new.image_id,
            status=RequestStatus.OPEN,
            open_package_key=key,
            created_at=now,
            updated_at=now,
        )
        request.set_created_by(actor.ref)
        filed = FeatureRequestChange(
            tenant_id=tenant_id, request_id=request.id, status=RequestStatus.OPEN, comment=None, at=now
        )
        try:
            async with self.session.begin_nested():
                self.requests.add(request)
                await self.session.flush()
                self.requests.add(filed)
                await self.session.flush()
        except IntegrityError:
            # Another request for the same package won the race: answer with it.
            if key is not None and (existing := await self.requests.open_for_package(tenant_id, key)):
                return await self._view(existing, tenant_id), False
            raise
        row = await self.requests.get(tenant_id, request.id)
        assert row is not None
        view = RequestView(request=row[0], tenant=row[1], history=[filed])
        record_event(self.session, tenant_id, FeatureRequestCreated(**_event_fields(view)), self.clock)
        record_audit(
            self.session,
            actor,
            AuditAction.FEATURE_REQUEST_FILED,
            AuditTarget("feature_request", request.id, request.title),
            details={"type": str(request.type)},
            clock=self.clock,
        )
        return view, True

    async def get(self, tenant_id: str, request_id: str) -> RequestView:
        row = await self.requests.get(tenant_id, request_id) if is_uuid(request_id) else None
        if row is None:
            raise NotFound("No such request.")
        return await self._view(row, tenant_id)

    async def list(
        self,
        tenant_id: str | None,
        page: PageParams,
        *,
        status: RequestStatus | None = None,
        type: RequestType | None = None,
    ) -> Slice[RequestView]:
        found = await self.requests.page(tenant_id, page, status=status, type=type)
        history = await self.requests.history(tenant_id, [row[0].id for row in found.items])
        return found.map(lambda row: RequestView(row[0], row[1], history[row[0].id]))

    # The operator's side: requests of any tenant, by id.

    async def show(self, request_id: str) -> RequestView:
        row = await self.requests.get_any_tenant(request_id) if is_uuid(request_id) else None
        if row is None:
            raise NotFound(f"No request {request_id}.")
        return await self._view(row, None)

    async def set_status(
        self, actor: Actor, request_id: str, status: RequestStatus, comment: str | None
    ) -> RequestView:
        row = await self.requests.get_any_tenant(request_id) if is_uuid(request_id) else None
        if row is None:
            raise NotFound(f"No request {request_id}.")
        request = row[0]
        previous = request.status
        now = self.clock()
        if request.type == RequestType.PACKAGE and request.package_name:
            key = None if status.is_closed else package_key(request.package_name)
            if key is not None and key != request.open_package_key:
                other = await self.requests.open_for_package(request.tenant_id, key)
                if other is not None:
                    raise Conflict(
                        f"Request {other[0].id} for the same package is still open;"
                        " close it before reopening this one."
                    )
            request.open_package_key = key
        request.status = status
        request.updated_at = now
        self.requests.add(
            FeatureRequestChange(
                tenant_id=request.tenant_id, request_id=request.id, status=status, comment=comment, at=now
            )
        )
        await self.session.flush()
        view = await self._view(row, None)
        updated = FeatureRequestUpdated(**_event_fields(view), previous_status=previous, comment=comment)
        record_event(self.session, request.tenant_id, updated, self.clock)
        record_audit(
            self.session,
            actor,
            AuditAction.FEATURE_REQUEST_STATUS_SET,
            AuditTarget("feature_request", request.id, request.title),
            details={"status": str(status), "previousStatus": str(previous)},
            tenant_id=request.tenant_id,
            clock=self.clock,
        )
        return view

    async def _view(self, row: RequestRow, tenant_id: str | None) -> RequestView:
        request, tenant = row
        history = await self.requests.history(tenant_id, [request.id])
        return RequestView(request=request, tenant=tenant, history=history[request.id])


def _event_fields(view: RequestView) -> dict[str, Any]:
    request = view.request
    return {
        "id": request.id,
        "type": request.type,
        "title": request.title,
        "status": request.status,
        "package_name": request.package_name,
        "image_id": request.image_id,
        "created_by": RequestAuthor.model_validate(request.created_by.public()),
    }
