"""`portal vex`. Importing, adding and revoking statements (which rescan what they change and tell the
tenants) are imported by those commands: listing loads only the reads."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from portal.cli.context import JsonOption, console, operator, report, run_in_transaction
from portal.kit.clock import rfc3339
from portal.kit.pagination import PageParams
from portal.runtime import Runtime
from portal.vex.documents import JUSTIFICATIONS, STATUSES
from portal.vex.models import VexStatement
from portal.vex.service import VexService

if TYPE_CHECKING:
    from portal.vex.statements import VexImportReport

app = typer.Typer(
    help="The vendor's VEX statements: whether a vulnerability affects an image or a package.",
    no_args_is_help=True,
    add_completion=False,
)


def statement_json(statement: VexStatement) -> dict[str, Any]:
    return {
        "id": statement.id,
        "vulnerability": statement.vulnerability,
        "aliases": [i for i in statement.identifiers if i != statement.vulnerability.upper()],
        "status": statement.status,
        "justification": statement.justification,
        "statement": statement.statement,
        "action": statement.action,
        "products": statement.products,
        "timestamp": rfc3339(statement.stated_at),
        "format": statement.format,
        "origin": statement.origin,
        "createdAt": rfc3339(statement.created_at),
        "createdBy": statement.created_by.as_json(),
        "revokedAt": rfc3339(statement.revoked_at) if statement.revoked_at else None,
    }


@app.command("import")
def import_vex(
    paths: list[Path] = typer.Argument(
        ..., help="OpenVEX 0.2.0 or CycloneDX (1.4-1.6) VEX documents, folders of them, or zip archives."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Import VEX statements. Every document is checked against its schema first: one that fails
    refuses the whole import (naming the document and the JSON path of its first error), and nothing is
    stored. Importing a document again adds nothing. Tenants whose image versions a new statement speaks
    for get `vex.published`, and CVE watch events where it changes a watched CVE's status."""
    from portal.vex.statements import VexStatements

    async def work(runtime: Runtime, session: AsyncSession) -> "VexImportReport":
        return await VexStatements(session, runtime.clock).import_paths(operator(), paths)

    result = run_in_transaction(work)
    report(
        as_json,
        {key: value for key, value in result.as_json().items() if key != "failures"},
        f"{result.documents} documents: {result.imported} statements imported, {result.unchanged} unchanged",
    )


@app.command("add")
def add(
    image: str = typer.Option(..., "--image", help="The image's name."),
    version: str | None = typer.Option(
        None, "--version", help="A tag or digest of one published version (else --all-versions)."
    ),
    all_versions: bool = typer.Option(False, "--all-versions", help="Every version of the image."),
    vulnerability: str = typer.Option(
        ..., "--vulnerability", help="A CVE, GHSA ... id (any of its aliases)."
    ),
    status: str = typer.Option(..., "--status", help=" | ".join(STATUSES)),
    justification: str | None = typer.Option(
        None, "--justification", help="For not_affected: " + " | ".join(JUSTIFICATIONS)
    ),
    statement: str | None = typer.Option(None, "--statement", help="The impact statement: why."),
    action: str | None = typer.Option(None, "--action", help="The action statement: what to do."),
    as_json: bool = JsonOption,
) -> None:
    """State whether a vulnerability affects an image (one version, or every version)."""
    if (version is None) == (not all_versions):
        raise typer.BadParameter("give --version TAG or --all-versions (one of them)", param_hint="--version")
    from portal.vex.statements import NewStatement, VexStatements

    new = NewStatement(
        image=image,
        vulnerability=vulnerability,
        status=status,
        version=version,
        justification=justification,
        statement=statement,
        action=action,
    )

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        return statement_json(await VexStatements(session, runtime.clock).add(operator(), new))

    added = run_in_transaction(work)
    report(as_json, added, f"statement {added['id']}: {vulnerability} {status} for {added['products'][0]}")


@app.command("list")
def list_statements(
    vulnerability: str | None = typer.Option(None, "--vulnerability", help="Only statements about this id."),
    image: str | None = typer.Option(None, "--image", help="Only statements naming this image."),
    revoked: bool = typer.Option(False, "--revoked", help="Revoked statements too."),
    limit: int = typer.Option(50, "--limit", min=1, max=100000, help="At most this many, newest first."),
    as_json: bool = JsonOption,
) -> None:
    """The vendor's statements, newest first."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[dict[str, Any]]:
        found = await VexService(session, runtime.clock).statements(
            PageParams(limit=limit), vulnerability=vulnerability, image=image, include_revoked=revoked
        )
        return [statement_json(statement) for statement in found.items]

    items = run_in_transaction(work)
    if as_json:
        report(True, {"items": items}, "")
        return
    for item in items:
        gone = f" (revoked {item['revokedAt']})" if item["revokedAt"] else ""
        why = f" {item['justification']}" if item["justification"] else ""
        console.print(
            f"{item['id']}  {item['vulnerability']:<22} {item['status']}{why}  "
            f"{', '.join(item['products'])}  {item['timestamp']}{gone}",
            highlight=False,
        )
    console.print(f"{len(items)} statements", highlight=False)


@app.command("revoke")
def revoke(
    statement_id: str = typer.Argument(..., help="The statement's id."), as_json: bool = JsonOption
) -> None:
    """Take a statement back: the finding it spoke for shows what the statement before it said, or
    affected again; tenants get CVE watch events where that changes a watched CVE's status."""
    from portal.vex.statements import VexStatements

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        return statement_json(await VexStatements(session, runtime.clock).revoke(operator(), statement_id))

    revoked_statement = run_in_transaction(work)
    report(as_json, revoked_statement, f"statement {statement_id} revoked")
