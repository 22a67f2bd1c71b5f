"""Feature requests, package requests and bug reports filed by tenants and answered by the operator."""

from portal.requests.models import FeatureRequest, RequestStatus, RequestType
from portal.requests.service import FeatureRequestService

__all__ = ["FeatureRequest", "FeatureRequestService", "RequestStatus", "RequestType"]
