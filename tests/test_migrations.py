from pathlib import Path

from alembic import command

from portal.migrations import alembic_config


def test_the_migrations_build_exactly_the_models_schema(sqlite_template: Path) -> None:
    """Alembic is the only source of the schema; a model changed without a migration fails here."""
    command.check(alembic_config(f"sqlite+aiosqlite:///{sqlite_template}"))
