"""Base models for the API: camelCase on the wire, unknown request fields refused."""

import re
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, field_validator
from pydantic.alias_generators import to_camel

# The field whose value picks the shape of a body described as a union (e.g. a feature request's `type`).
DISCRIMINATOR = "type"

# For query parameters that reach SQL: PostgreSQL refuses a NUL in text, which would answer 500.
NO_NUL_PATTERN = r"^[^\x00]*$"


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


def _strings_without_nul(schema: dict[str, Any]) -> None:
    """States in the JSON schema what `_refuse_nul` checks, for every free-text field of a body."""
    for field in schema.get("properties", {}).values():
        for candidate in [field, *field.get("anyOf", [])]:
            if candidate.get("type") == "string" and not {"pattern", "enum", "const"} & candidate.keys():
                candidate["pattern"] = NO_NUL_PATTERN


class ApiInput(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        json_schema_extra=_strings_without_nul,
    )

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        # PostgreSQL can neither store nor compare a NUL in text; SQLite can, so the same body would
        # answer 500 on one database and 201 on the other.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339_text(value: Any) -> Any:
    # pydantic would also read "0.5" or "1700000000" as a time (seconds since the epoch).
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time with a zone, e.g. 2025-05-01T10:00:00Z")
    return value


# A time given in a query or body: RFC 3339 with its zone, as the API writes times.
Rfc3339Input = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]
