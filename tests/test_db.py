import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from portal.runtime import Runtime


async def test_database_errors_do_not_carry_the_statements_values(runtime: Runtime) -> None:
    # The unhandled-error log prints the exception; its values can be password hashes or emails.
    async with runtime.db.sessions() as session:
        with pytest.raises(DBAPIError) as failure:
            await session.execute(text("SELECT * FROM no_such_table WHERE x = :value"), {"value": "hunter2"})
    assert "hunter2" not in str(failure.value)
