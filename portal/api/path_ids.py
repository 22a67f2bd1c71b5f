"""An id in a URL path, as every route declares it. Kept out of `portal.kit.ids` so that the models (and
the CLI, which imports them) never import FastAPI."""

from typing import Annotated

from fastapi import Path

from portal.kit.ids import ID_TEXT

# Anything but an id as the API writes it names nothing (404) and never reaches a query, where PostgreSQL
# would fail on a NUL.
PathId = Annotated[
    str,
    Path(
        pattern=f"^{ID_TEXT}$",
        min_length=36,
        max_length=36,
        description="An id as the API writes it (a lower-case UUID).",
    ),
]
