from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, WithJsonSchema

from portal.auth.schemas import ActorOut
from portal.kit.ids import ID_TEXT
from portal.kit.schema import DISCRIMINATOR, ApiInput, ApiModel
from portal.requests.models import RequestStatus, RequestType

# At least three characters once the surrounding whitespace (as Python strips it) is gone, no NUL.
_KEPT = r"[^\s\x00-\x1f\x85]"
_TITLE = rf"^[\s\x1c-\x1f\x85]*{_KEPT}[^\x00]+{_KEPT}[\s\x1c-\x1f\x85]*$"

PackageName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9@][A-Za-z0-9@._+/:-]*$"),
]


class _RequestIn(ApiInput):
    # Stripped before the length check: a title of spaces would otherwise be stored empty.
    title: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=3, max_length=200),
        WithJsonSchema({"type": "string", "pattern": _TITLE, "maxLength": 200}),
    ]
    description: str = Field(min_length=1, max_length=10_000)
    image_id: str | None = Field(
        default=None,
        pattern=f"^{ID_TEXT}$",
        description="The image it concerns; an image your tenant can see (else 404).",
    )


class FeatureIn(_RequestIn):
    type: Literal[RequestType.FEATURE]


class BugIn(_RequestIn):
    type: Literal[RequestType.BUG]


class PackageIn(_RequestIn):
    type: Literal[RequestType.PACKAGE]
    package_name: PackageName = Field(description="The package wanted.")


# Only a package request names a package: the body's shape follows its `type`.
FeatureRequestIn = Annotated[FeatureIn | PackageIn | BugIn, Field(discriminator=DISCRIMINATOR)]


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
