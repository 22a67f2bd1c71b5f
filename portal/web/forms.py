"""Reading a form into the API's own input models, so a page accepts exactly what the API accepts, and
turning what refuses it into lines a person can act on."""

from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from portal.api.errors import validation_details
from portal.errors import PortalError, ValidationFailed

T = TypeVar("T")


class FormRefused(Exception):
    """A form the API's model or a service refused; `problems` say why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse(model: TypeAdapter[T], fields: dict[str, Any]) -> T:
    try:
        return model.validate_python(fields)
    except ValidationError as invalid:
        raise FormRefused(
            [f"{_field(d.path)}: {d.message}" for d in validation_details(invalid.errors())]
        ) from None


def refused_by_service(error: PortalError) -> FormRefused:
    """The service's message, unless it only says "not valid", and what it says of each field."""
    problems = [] if error.message == ValidationFailed.default_message else [error.message]
    problems += [f"{_field(d.path)}: {d.message}" for d in error.details or []]
    return FormRefused(problems or [error.message])


def _field(path: list[str | int]) -> str:
    names = [str(part) for part in path if not isinstance(part, int)]
    return " ".join(names) or "form"
