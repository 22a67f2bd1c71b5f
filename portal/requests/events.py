"""What feature requests tell tenants' webhooks."""

from typing import ClassVar

from portal.events import EventPayload, EventType
from portal.requests.models import RequestStatus, RequestType


class RequestAuthor(EventPayload):
    """Who filed it: a user, an API key (`email` is its creator's) or the vendor's operator."""

    type: str
    id: str | None
    name: str
    email: str | None


class FeatureRequestCreated(EventPayload):
    """A feature request, package request or bug report was filed."""

    event_type: ClassVar[EventType] = EventType.FEATURE_REQUEST_CREATED

    id: str
    type: RequestType
    title: str
    status: RequestStatus
    package_name: str | None
    image_id: str | None
    created_by: RequestAuthor


class FeatureRequestUpdated(FeatureRequestCreated):
    """The vendor moved a request to another status; `previousStatus` is the status before the change."""

    event_type: ClassVar[EventType] = EventType.FEATURE_REQUEST_UPDATED

    previous_status: RequestStatus
    comment: str | None
