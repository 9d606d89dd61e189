"""User and admin tokens: HS256 JWTs with OpenIM's claims (``UserID``, ``PlatformID``).

The same shape as OpenIM's own tokens, so a token minted by either side is accepted by the
other when they share the secret.
"""

from __future__ import annotations

import dataclasses
import time
import warnings

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from oimws.protocol.errors import ApiError, ErrCode

# OpenIM's own default secret is 9 bytes; interoperating with it means accepting short keys.
# A loud startup warning covers the default secret instead (oimws.app).
warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)

ALGORITHM = "HS256"
ADMIN_PLATFORM_ID = 10
# Leeway for clocks that disagree by a little between the issuer and oimws.
CLOCK_SKEW_SECONDS = 5


@dataclasses.dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    platform_id: int
    expires_at: int
    issued_at_ms: int = 0  # 0: the token carried no iat


class TokenError(ApiError):
    """A token was refused; ``code`` is one of OpenIM's 1501-1507."""


class TokenService:
    def __init__(self, secret: str, expire_seconds: int) -> None:
        self._secret = secret
        self.expire_seconds = expire_seconds
        # (userID, platformID) -> tokens issued before this time (ms) are refused (1506):
        # a forced logout. Kept in memory so the upgrade checks it without I/O; the store
        # keeps it durable (see ``revoke``'s caller).
        self._revoked_before: dict[tuple[str, int], int] = {}

    def issue(self, user_id: str, platform_id: int, expire_seconds: int | None = None) -> str:
        now = time.time()
        # Issued strictly after any forced logout of this user and platform, even one in
        # the same millisecond, so that it is never taken for a revoked token.
        watermark_ms = self._revoked_before.get((user_id, platform_id))
        if watermark_ms is not None and now * 1000 <= watermark_ms:
            now = (watermark_ms + 1) / 1000
        whole = int(now)
        lifetime = self.expire_seconds if expire_seconds is None else expire_seconds
        claims = {
            "UserID": user_id,
            "PlatformID": platform_id,
            "exp": whole + lifetime,
            "nbf": whole - CLOCK_SKEW_SECONDS,
            # In ms (a JWT NumericDate may have a fraction) so that a token issued right after
            # a forced logout, in the same second, is not taken for one issued before it.
            "iat": round(now, 3),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def revoke(self, user_id: str, platform_id: int, before_ms: int) -> None:
        """Refuse from now on every token of this user and platform issued at or before
        ``before_ms`` (a later watermark replaces an earlier one, never the reverse)."""
        key = (user_id, platform_id)
        self._revoked_before[key] = max(before_ms, self._revoked_before.get(key, 0))

    def load_revocations(self, revocations: dict[tuple[str, int], int]) -> None:
        for (user_id, platform_id), before_ms in revocations.items():
            self.revoke(user_id, platform_id, before_ms)

    def _check_not_revoked(self, claims: TokenClaims) -> None:
        before_ms = self._revoked_before.get((claims.user_id, claims.platform_id))
        # A token without iat cannot show it is newer than the logout: refused too.
        if before_ms is not None and claims.issued_at_ms <= before_ms:
            raise TokenError(ErrCode.TOKEN_KICKED,
                             "token was revoked by a forced logout; get a new one")

    def verify(self, token: str) -> TokenClaims:
        if not token:
            raise TokenError(ErrCode.TOKEN_NOT_EXIST, "no token given")
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "UserID", "PlatformID"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError(ErrCode.TOKEN_EXPIRED, "token has expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenError(ErrCode.TOKEN_NOT_VALID_YET, "token is not valid yet") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError(ErrCode.TOKEN_UNKNOWN, f"token lacks claim {exc.claim}") from None
        except (jwt.InvalidSignatureError, jwt.InvalidAlgorithmError):
            raise TokenError(ErrCode.TOKEN_INVALID, "token signature is invalid") from None
        except jwt.DecodeError:
            raise TokenError(ErrCode.TOKEN_MALFORMED, "token is malformed") from None
        except jwt.InvalidTokenError as exc:
            raise TokenError(ErrCode.TOKEN_UNKNOWN, f"token is not usable: {exc}") from None
        user_id = claims["UserID"]
        platform_id = claims["PlatformID"]
        if not isinstance(user_id, str) or not user_id:
            raise TokenError(ErrCode.TOKEN_MALFORMED, "claim UserID must be a non-empty string")
        if isinstance(platform_id, bool) or not isinstance(platform_id, int):
            raise TokenError(ErrCode.TOKEN_MALFORMED, "claim PlatformID must be an integer")
        issued_at = claims.get("iat")
        issued_at_ms = (round(issued_at * 1000) if isinstance(issued_at, int | float)
                        and not isinstance(issued_at, bool) else 0)
        verified = TokenClaims(user_id, platform_id, int(claims["exp"]), issued_at_ms)
        self._check_not_revoked(verified)
        return verified

    def verify_for(self, token: str, user_id: str, platform_id: int) -> TokenClaims:
        """Verify a token and that it was issued to exactly this user on this platform."""
        claims = self.verify(token)
        if claims.user_id != user_id:
            raise TokenError(ErrCode.TOKEN_INVALID, "token was issued to another user")
        if claims.platform_id != platform_id:
            raise TokenError(ErrCode.TOKEN_INVALID, "token was issued for another platform")
        return claims
