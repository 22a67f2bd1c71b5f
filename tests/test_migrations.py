from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from portal.migrations import alembic_config, head_revision


def test_the_migrations_build_exactly_the_models_schema(sqlite_template: Path) -> None:
    """Alembic is the only source of the schema; a model changed without a migration fails here."""
    command.check(alembic_config(f"sqlite+aiosqlite:///{sqlite_template}"))


def test_each_file_is_named_after_its_revision_so_the_newest_is_the_highest_name() -> None:
    """Commands tell whether a database is current from the file names alone (`head_revision`)."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    for script in scripts.walk_revisions():
        assert script.path is not None
        assert Path(script.path).name.startswith(f"{script.revision}_"), script.path
    assert scripts.get_heads() == [head_revision()]
