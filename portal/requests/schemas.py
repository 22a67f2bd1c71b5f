from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from portal.auth.schemas import ActorOut
from portal.errors import ErrorDetail, ValidationFailed
from portal.kit.schema import ApiInput, ApiModel
from portal.requests.models import RequestStatus, RequestType

PackageName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9@][A-Za-z0-9@._+/:-]*$"),
]


class FeatureRequestIn(ApiInput):
    type: RequestType
    # Stripped before the length check: a title of spaces would otherwise be stored empty.
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
    description: str = Field(min_length=1, max_length=10_000)
    package_name: PackageName | None = Field(
        default=None, description="The package wanted; required for `package`, not allowed otherwise."
    )
    image_id: str | None = Field(
        default=None, max_length=64, description="The image it concerns; must be one your tenant can see."
    )

    @model_validator(mode="after")
    def _package_name_goes_with_package(self) -> Self:
        if self.type == RequestType.PACKAGE and self.package_name is None:
            raise ValidationFailed(
                "A package request names the package it wants.",
                details=[
                    ErrorDetail(path=["packageName"], message="required for type package", code="required")
                ],
            )
        if self.type != RequestType.PACKAGE and self.package_name is not None:
            raise ValidationFailed(
                "Only a package request names a package.",
                details=[
                    ErrorDetail(path=["packageName"], message="only for type package", code="unknown_field")
                ],
            )
        return self


class HistoryEntryOut(ApiModel):
    status: RequestStatus
    comment: str | None
    at: datetime


class FeatureRequestOut(ApiModel):
    id: str
    type: RequestType
    title: str
    description: str
    package_name: str | None
    image_id: str | None
    status: RequestStatus
    created_at: datetime
    updated_at: datetime
    created_by: ActorOut
    history: list[HistoryEntryOut] = Field(
        description="Status changes, oldest first, with the operator's comments."
    )
