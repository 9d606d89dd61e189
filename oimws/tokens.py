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


class TokenError(ApiError):
    """A token was refused; ``code`` is one of OpenIM's 1501-1507."""


class TokenService:
    def __init__(self, secret: str, expire_seconds: int) -> None:
        self._secret = secret
        self.expire_seconds = expire_seconds

    def issue(self, user_id: str, platform_id: int, expire_seconds: int | None = None) -> str:
        now = int(time.time())
        lifetime = self.expire_seconds if expire_seconds is None else expire_seconds
        claims = {
            "UserID": user_id,
            "PlatformID": platform_id,
            "exp": now + lifetime,
            "nbf": now - CLOCK_SKEW_SECONDS,
            "iat": now,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

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
        return TokenClaims(user_id, platform_id, int(claims["exp"]))

    def verify_for(self, token: str, user_id: str, platform_id: int) -> TokenClaims:
        """Verify a token and that it was issued to exactly this user on this platform."""
        claims = self.verify(token)
        if claims.user_id != user_id:
            raise TokenError(ErrCode.TOKEN_INVALID, "token was issued to another user")
        if claims.platform_id != platform_id:
            raise TokenError(ErrCode.TOKEN_INVALID, "token was issued for another platform")
        return claims
