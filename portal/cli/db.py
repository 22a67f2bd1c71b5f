"""`portal db`: where the data is and its schema."""

import typer

from portal.cli.context import JsonOption, cli_settings, database_name, database_revision, migrate, report

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.command("upgrade")
def upgrade(as_json: bool = JsonOption) -> None:
    """Create the schema, or run the migrations up to the newest one."""
    done = migrate()
    where = database_name(cli_settings())
    if done.before is None:
        human = f"Created the schema (revision {done.after}) in {where}"
    elif done.before != done.after:
        human = f"Upgraded {where} from revision {done.before} to {done.after}"
    else:
        human = f"{where} already has the newest schema (revision {done.after})"
    report(as_json, {"database": where, "before": done.before, "after": done.after}, human)


@app.command("status")
def status(as_json: bool = JsonOption) -> None:
    """Where the data is (PORTAL_DATA_DIR, PORTAL_DATABASE_URL) and whether its schema is current."""
    from portal.migrations import head_revision

    settings = cli_settings()
    where, head, current = database_name(settings), head_revision(), database_revision(settings)
    if current is None:
        state = "no schema yet: run `portal db upgrade`"
    elif current == head:
        state = f"schema {current}, the newest"
    else:
        state = f"schema {current}; this portal's is {head}: run `portal db upgrade`"
    data = {"dataDir": str(settings.data_dir.resolve()), "database": where, "revision": current, "head": head}
    report(as_json, data, f"Data directory: {data['dataDir']}\nDatabase: {where} ({state})")
