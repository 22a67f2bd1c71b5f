"""Base models for the API: camelCase on the wire, unknown request fields refused."""

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic.alias_generators import to_camel

# The field whose value picks the shape of a body described as a union (e.g. a feature request's `type`).
DISCRIMINATOR = "type"

# For query parameters that reach SQL: PostgreSQL refuses a NUL in text, which would answer 500.
NO_NUL_PATTERN = r"^[^\x00]*$"


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class ApiInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        # PostgreSQL can neither store nor compare a NUL in text; SQLite can, so the same body would
        # answer 500 on one database and 201 on the other.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value
