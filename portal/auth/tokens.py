"""Access tokens: short-lived JWTs with one pinned algorithm and an explicit `typ`."""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from portal.errors import TokenExpired, Unauthorized
from portal.kit.clock import Clock, utcnow

ALGORITHM = "HS256"
TOKEN_TYPE = "at+jwt"
VERIFIED_CACHE_SIZE = 50_000
REQUIRED_CLAIMS = ["iss", "aud", "sub", "tid", "role", "iat", "exp", "jti"]


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: str
    tenant_id: str
    role: str


class AccessTokenCodec:
    def __init__(self, key: str, issuer: str, audience: str, ttl_seconds: int, clock: Clock = utcnow) -> None:
        self.key = key
        self.issuer = issuer
        self.audience = audience
        self.ttl = timedelta(seconds=ttl_seconds)
        self.clock = clock
        self._verified: dict[str, tuple[float, AccessClaims]] = {}

    def issue(self, user_id: str, tenant_id: str, role: str) -> str:
        now = self.clock()
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user_id,
            "tid": tenant_id,
            "role": role,
            "iat": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self.key, algorithm=ALGORITHM, headers={"typ": TOKEN_TYPE})

    def decode(self, token: str) -> AccessClaims:
        """Verifies a token; a token already verified is only checked for expiry again.

        PyJWT's checks cost about a third of an authenticated request, and a client sends the same
        token for its whole fifteen minutes.
        """
        verified = self._verified.get(token)
        if verified is None:
            verified = self._verify(token)
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = verified
        expires_at, claims = verified
        # Expiry is judged by the codec's clock, the one that issued the token, on first sight as after.
        if self.clock().timestamp() >= expires_at:
            raise TokenExpired()
        return claims

    def _verify(self, token: str) -> tuple[float, AccessClaims]:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("typ") != TOKEN_TYPE:
                raise Unauthorized("The bearer token is not an access token.")
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                # Times are judged by the codec's clock (decode), not the wall clock PyJWT would read.
                options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized("The bearer token is not valid.") from exc
        subject, tenant, role = claims["sub"], claims["tid"], claims["role"]
        if not all(isinstance(value, str) for value in (subject, tenant, role)):
            raise Unauthorized("The bearer token is not valid.")
        expires_at = claims["exp"]
        if not isinstance(expires_at, int | float):
            raise Unauthorized("The bearer token is not valid.")
        return float(expires_at), AccessClaims(user_id=subject, tenant_id=tenant, role=role)
