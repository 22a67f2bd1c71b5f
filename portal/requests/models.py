from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.auth.actor import CreatedBy
from portal.db import Base, TenantOwned
from portal.kit.ids import new_id


class RequestType(StrEnum):
    FEATURE = "feature"
    PACKAGE = "package"
    BUG = "bug"


class RequestStatus(StrEnum):
    OPEN = "open"
    UNDER_REVIEW = "under_review"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DECLINED = "declined"

    @property
    def is_closed(self) -> bool:
        return self in (RequestStatus.DONE, RequestStatus.DECLINED)


class FeatureRequest(CreatedBy, TenantOwned, Base):
    __tablename__ = "feature_requests"
    # At most one open request per package and tenant, enforced by the database so that two
    # integrations retrying at the same moment still end with one request.
    __table_args__ = (UniqueConstraint("tenant_id", "open_package_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    type: Mapped[RequestType] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    package_name: Mapped[str | None] = mapped_column(String(200))
    image_id: Mapped[str | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"))
    status: Mapped[RequestStatus] = mapped_column(String(16), index=True)
    # The normalised package name while the request is still open (not done or declined), else null.
    open_package_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class FeatureRequestChange(TenantOwned, Base):
    """One entry of a request's status history; the first records its filing."""

    __tablename__ = "feature_request_history"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(ForeignKey("feature_requests.id", ondelete="CASCADE"), index=True)
    status: Mapped[RequestStatus] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
