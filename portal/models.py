"""Every table, imported in one place for the migrations' metadata."""

from portal.advisories.models import Advisory, AdvisoryAlias, AdvisoryPackage, Vulnerability
from portal.apikeys.models import ApiKey
from portal.audit.models import AuditEvent
from portal.auth.browser_sessions import BrowserSession
from portal.auth.refresh_tokens import RefreshToken
from portal.catalog.models import Entitlement, Image, ImageVersion, VersionHardeningTag, VersionSbom
from portal.events.models import OutboxEvent
from portal.intel.models import EpssScore, KevEntry
from portal.jobs.models import Job
from portal.kit.readcache import CacheRevision
from portal.requests.models import FeatureRequest, FeatureRequestChange
from portal.scanning.models import FindingSet, Scan, VersionPackage
from portal.tenants.models import Tenant
from portal.users.activation import UserActivation
from portal.users.models import User
from portal.vex.models import FindingAnalysis, VexProduct, VexStatement
from portal.watches.models import CveWatch
from portal.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription, WorkerHeartbeat

__all__ = [
    "Advisory",
    "AdvisoryAlias",
    "AdvisoryPackage",
    "ApiKey",
    "AuditEvent",
    "BrowserSession",
    "CacheRevision",
    "CveWatch",
    "Entitlement",
    "EpssScore",
    "FeatureRequest",
    "FeatureRequestChange",
    "FindingAnalysis",
    "FindingSet",
    "Image",
    "ImageVersion",
    "Job",
    "KevEntry",
    "OutboxEvent",
    "RefreshToken",
    "Scan",
    "Tenant",
    "User",
    "UserActivation",
    "VersionHardeningTag",
    "VersionPackage",
    "VersionSbom",
    "VexProduct",
    "VexStatement",
    "Vulnerability",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "WorkerHeartbeat",
]
