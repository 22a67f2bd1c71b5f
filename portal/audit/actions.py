"""What an audit event says happened: one documented action per kind of change or sign-in.

The value is what the API, the export and `portal audit list` show, and what `?action=` filters on. Each
member's description is published in the OpenAPI document (an audit event's `action`) and in
docs/access.md; a test keeps the two in step.
"""

from enum import StrEnum


class AuditOutcome(StrEnum):
    SUCCESS = "success"
    # The caller was not who it claimed (a wrong password, a reused refresh token).
    FAILURE = "failure"
    # The caller was known but its role may not do this.
    DENIED = "denied"


class AuditAction(StrEnum):
    # Authentication
    LOGIN = "auth.login"
    TOKEN_REFRESHED = "auth.refresh"
    REFRESH_REUSED = "auth.refresh_reused"
    LOGOUT = "auth.logout"
    ACCOUNT_ACTIVATED = "auth.activate"
    ACCESS_DENIED = "access.denied"
    # API keys
    API_KEY_CREATED = "api_key.created"
    API_KEY_FIRST_USED = "api_key.first_used"
    API_KEY_REVOKED = "api_key.revoked"
    # Tenants and their users
    TENANT_CREATED = "tenant.created"
    USER_CREATED = "user.created"
    USER_REINVITED = "user.reinvited"
    USER_UPDATED = "user.updated"
    USER_PASSWORD_SET = "user.password_set"
    # The catalog
    VERSION_PUBLISHED = "image.published"
    VERSION_UNPUBLISHED = "image.unpublished"
    VERSION_REPUBLISHED = "image.republished"
    IMAGE_GRANTED = "image.granted"
    IMAGE_ACCESS_REVOKED = "image.revoked"
    # Vulnerability data and scans
    ADVISORIES_IMPORTED = "advisories.imported"
    KEV_IMPORTED = "intel.kev_imported"
    EPSS_IMPORTED = "intel.epss_imported"
    SCAN_RUN = "scan.run"
    VEX_IMPORTED = "vex.imported"
    VEX_STATEMENT_ADDED = "vex.statement_added"
    VEX_STATEMENT_REVOKED = "vex.statement_revoked"
    # A tenant's own objects
    FEATURE_REQUEST_FILED = "feature_request.filed"
    FEATURE_REQUEST_STATUS_SET = "feature_request.status_set"
    CVE_WATCH_CREATED = "cve_watch.created"
    CVE_WATCH_DELETED = "cve_watch.deleted"
    FINDING_ANALYSIS_RECORDED = "finding_analysis.recorded"
    FINDING_ANALYSIS_WITHDRAWN = "finding_analysis.withdrawn"
    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_UPDATED = "webhook.updated"
    WEBHOOK_DELETED = "webhook.deleted"
    WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated"
    WEBHOOK_REDELIVERED = "webhook.redelivered"
    WEBHOOK_TESTED = "webhook.tested"
    # The operator's housekeeping
    SECRETS_ROTATED = "secrets.rotated"
    AUDIT_PRUNED = "audit.pruned"

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self]


DESCRIPTIONS: dict[AuditAction, str] = {
    AuditAction.LOGIN: "A sign-in with email and password; `failure` when refused (an unknown email "
    "included: the caller is told only that the credentials are invalid).",
    AuditAction.TOKEN_REFRESHED: "A refresh token was exchanged for a new pair.",
    AuditAction.REFRESH_REUSED: "A spent refresh token was presented again: its session is revoked.",
    AuditAction.LOGOUT: "A session ended (its refresh tokens revoked).",
    AuditAction.ACCOUNT_ACTIVATED: "A new user set a password with an activation token.",
    AuditAction.ACCESS_DENIED: "A signed-in caller tried a write its role may not do (403).",
    AuditAction.API_KEY_CREATED: "An API key was created.",
    AuditAction.API_KEY_FIRST_USED: "An API key authenticated a request for the first time.",
    AuditAction.API_KEY_REVOKED: "An API key was revoked.",
    AuditAction.TENANT_CREATED: "The operator created a tenant.",
    AuditAction.USER_CREATED: "A user was added to the tenant (by the operator with a password, by an admin "
    "with an activation token).",
    AuditAction.USER_REINVITED: "An admin invited again a user who had not activated: a new token replaces "
    "the old one.",
    AuditAction.USER_UPDATED: "A user's role or active state changed (`details` names the change).",
    AuditAction.USER_PASSWORD_SET: "The operator set a user's password.",
    AuditAction.VERSION_PUBLISHED: "The operator published an image version.",
    AuditAction.VERSION_UNPUBLISHED: "The operator unpublished an image version.",
    AuditAction.VERSION_REPUBLISHED: "The operator brought an unpublished image version back.",
    AuditAction.IMAGE_GRANTED: "The operator gave the tenant access to an image.",
    AuditAction.IMAGE_ACCESS_REVOKED: "The operator took away the tenant's access to an image.",
    AuditAction.ADVISORIES_IMPORTED: "The operator imported vulnerability advisories.",
    AuditAction.KEV_IMPORTED: "The operator imported CISA's KEV catalog.",
    AuditAction.EPSS_IMPORTED: "The operator imported FIRST's EPSS scores.",
    AuditAction.SCAN_RUN: "The operator ran a scan of published versions.",
    AuditAction.VEX_IMPORTED: "The operator imported VEX documents (OpenVEX, CycloneDX).",
    AuditAction.VEX_STATEMENT_ADDED: "The operator made a VEX statement about an image.",
    AuditAction.VEX_STATEMENT_REVOKED: "The operator revoked a VEX statement.",
    AuditAction.FEATURE_REQUEST_FILED: "A feature request, package request or bug report was filed.",
    AuditAction.FEATURE_REQUEST_STATUS_SET: "The operator set a request's status.",
    AuditAction.CVE_WATCH_CREATED: "A CVE is now watched.",
    AuditAction.CVE_WATCH_DELETED: "A CVE watch was removed.",
    AuditAction.FINDING_ANALYSIS_RECORDED: "A finding's analysis (triage) was recorded.",
    AuditAction.FINDING_ANALYSIS_WITHDRAWN: "A finding's analysis (triage) was withdrawn.",
    AuditAction.WEBHOOK_CREATED: "A webhook subscription was created.",
    AuditAction.WEBHOOK_UPDATED: "A webhook subscription was changed.",
    AuditAction.WEBHOOK_DELETED: "A webhook subscription was deleted.",
    AuditAction.WEBHOOK_SECRET_ROTATED: "A webhook's signing secret was rotated.",
    AuditAction.WEBHOOK_REDELIVERED: "A webhook delivery was queued again.",
    AuditAction.WEBHOOK_TESTED: "A test delivery was sent to a webhook.",
    AuditAction.SECRETS_ROTATED: "The operator re-encrypted the stored webhook secrets under a new key.",
    AuditAction.AUDIT_PRUNED: "The retention job deleted events older than PORTAL_AUDIT_RETENTION_DAYS.",
}
