from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field

from portal.audit.actions import DESCRIPTIONS, AuditAction, AuditOutcome
from portal.audit.models import AuditEvent
from portal.auth.schemas import ActorOut, actor_out
from portal.kit.schema import ApiModel


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What a reader asks the log for: the API's query, the console's form, the CLI's options. `actor`: a
    user's or key's id, a user's email, or `operator`; times are inclusive from `since`, exclusive at
    `until`."""

    actor: str | None = None
    action: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditTargetOut(ApiModel):
    type: str = Field(description="What was acted on: user, api_key, webhook, cve_watch, image_version, ...")
    id: str | None
    name: str | None = Field(description="For people: the email, the URL, the CVE id, the image name ...")


ACTIONS_DOC = "What happened:\n\n" + "\n".join(
    f"- `{action.value}`: {description}" for action, description in DESCRIPTIONS.items()
)


class AuditEventOut(ApiModel):
    id: str
    occurred_at: datetime
    action: AuditAction = Field(description=ACTIONS_DOC)
    outcome: AuditOutcome = Field(
        description="success; failure (not who it claimed: a wrong password, a reused refresh token); "
        "denied (its role may not do this)."
    )
    actor: ActorOut
    target: AuditTargetOut | None
    client_ip: str | None
    user_agent: str | None
    request_id: str | None = Field(description="The X-Request-Id the request was answered and logged with.")
    details: dict[str, Any] = Field(
        description="What changed, by name (e.g. the new role); never a password, token or secret."
    )


def audit_event_out(event: AuditEvent, *, for_operator: bool = False) -> AuditEventOut:
    """A tenant sees the vendor's staff as `operator`; the operator sees who ran the command."""
    actor = event.actor
    return AuditEventOut(
        id=event.id,
        occurred_at=event.occurred_at,
        action=AuditAction(event.action),
        outcome=AuditOutcome(event.outcome),
        actor=ActorOut.model_validate(actor.as_json()) if for_operator else actor_out(actor),
        target=(
            AuditTargetOut(type=event.target_type, id=event.target_id, name=event.target_name)
            if event.target_type is not None
            else None
        ),
        client_ip=event.client_ip,
        user_agent=event.user_agent,
        request_id=event.request_id,
        details=event.details,
    )
