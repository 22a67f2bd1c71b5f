from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from portal.errors import PortalError
from portal.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    # async, though it awaits nothing: FastAPI runs a plain function dependency in a worker thread.
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed when the handler returns, rolled back when it raises."""
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.sessions() as session:
        try:
            yield session
        except PortalError as exc:
            if exc.keep_changes:
                await session.commit()
            raise
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
