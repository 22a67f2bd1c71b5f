"""The operator's command line, `portal`. Thin: every command calls the same services as the API.

`portal --help` and simple commands answer in under 0.5 s (`benchmarks/cli_startup.py`) because a
command's module is imported only when that command runs. To add a command, keep to this pattern:

1. Put it in its own module, `portal/cli/<name>.py`: a group of commands is a
   `typer.Typer(no_args_is_help=True, add_completion=False)` named `app`; a single command is a function.
2. Register it in `portal.cli.main.PortalCommands.lazy` as `LazyCommand("portal.cli.<name>:app", "<one line
   of help>")`. Never `app.add_typer(...)` or `app.command()(...)` in `main.py`, and never import a command
   module from another: that loads it (and all it imports) for every command.
3. Its module's top-level imports are paid by each of its commands only, so import there what all of them
   need; something only some commands of a group need (a use case that writes, such as publishing or
   importing VEX, a heavy library) is imported inside those commands' functions. Below the CLI the same
   holds: a feature package whose modules are not all light names its exports lazily
   (`portal.kit.exports`), a library that one operation needs (univers, cvss, jsonschema_rs, the
   PostgreSQL dialect) is imported by that operation, and a module logs through
   `portal.logs.get_logger` so that structlog is loaded only where something logs.
   `tests/cli/test_startup_imports.py` names what a simple command may not load.
4. Run the work through `context.run_in_transaction` (one unit of work) or `context.run_with_runtime`: both
   stop with one `error:` line when the database is missing, unreachable or behind the code's schema, and
   print a `PortalError` as `error: <message>` with exit status 1. Only a command that should create or
   upgrade the schema (`serve`, `worker`, `demo`, `db upgrade`) calls `context.migrate()` first.
5. Print through `context.report(as_json, data, human)`: with `--json` (`context.JsonOption`) exactly one
   JSON object on stdout, otherwise lines for people on `context.console`, which never hard-wraps (so a
   digest or a path survives grep and copy-paste). Progress and warnings go to stderr (`context.errors`).
6. Help is plain text: an option shows its name as its value (`--tag TAG`) or its choices, a flag nothing;
   the group sets that on every command it loads.
"""
