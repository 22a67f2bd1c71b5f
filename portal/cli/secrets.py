"""`portal secrets`: the key that encrypts webhook signing secrets at rest, and its rotation."""

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditAction, record_audit
from portal.cli.context import JsonOption, console, fail, operator, report, run_in_transaction
from portal.config import Settings, load_settings
from portal.kit.encryption import SecretBox, SecretUnreadable, new_key
from portal.runtime import Runtime
from portal.webhooks.secrets import reencrypt_secrets

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.command("new-key")
def new_key_command() -> None:
    """Print a fresh encryption key (for PORTAL_ENCRYPTION_KEY)."""
    console.print(new_key(), highlight=False)


@app.command("rotate")
def rotate(
    generate: bool = typer.Option(
        False,
        "--generate",
        help="With the key kept in the data directory: make a new key, re-encrypt under it, drop the old.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Re-encrypt every stored webhook secret under the first key of PORTAL_ENCRYPTION_KEY (all listed
    keys decrypt). Rotation: PORTAL_ENCRYPTION_KEY=new,old on every process, run this, then drop old."""
    settings = load_settings()
    keys = settings.effective_encryption_keys
    if generate:
        if settings.encryption_key:
            fail(
                "PORTAL_ENCRYPTION_KEY is set: put a new key (portal secrets new-key) first in it on every "
                "process, run `portal secrets rotate`, then remove the old key."
            )
        keys = [new_key(), *keys]
        _keep_keys(settings, keys)  # before re-encrypting: a crash midway leaves every secret readable
    try:
        count = run_in_transaction(lambda runtime, session: _reencrypt(runtime, session, keys, generate))
    except SecretUnreadable as error:
        fail(f"{error}; nothing was changed. Add the key it was encrypted with to PORTAL_ENCRYPTION_KEY.")
    if generate:
        _keep_keys(settings, keys[:1])
    report(
        as_json,
        {"reencrypted": count, "generated": generate},
        f"Re-encrypted the secrets of {count} webhook subscriptions under the "
        + ("new key (the old one is gone)." if generate else "first key of PORTAL_ENCRYPTION_KEY."),
    )


async def _reencrypt(runtime: Runtime, session: AsyncSession, keys: list[str], generated: bool) -> int:
    count = await reencrypt_secrets(session, SecretBox(keys))
    record_audit(
        session,
        operator(),
        AuditAction.SECRETS_ROTATED,
        details={"reencrypted": count, "generated": generated},
        clock=runtime.clock,
    )
    return count


def _keep_keys(settings: Settings, keys: list[str]) -> None:
    settings.encryption_key_file.write_text("".join(key + "\n" for key in keys))
