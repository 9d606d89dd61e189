import time

import jwt
import pytest

from oimws.protocol.errors import ErrCode
from oimws.tokens import TokenError, TokenService

SECRET = "s3cret-for-tests"
tokens = TokenService(SECRET, 3600)


def craft(claims: dict, secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def test_issue_then_verify():
    claims = tokens.verify(tokens.issue("alice", 5))
    assert (claims.user_id, claims.platform_id) == ("alice", 5)
    assert claims.expires_at > time.time()


def test_openim_shaped_token_from_elsewhere_is_accepted():
    now = int(time.time())
    token = craft({"UserID": "bob", "PlatformID": 1, "exp": now + 60, "nbf": now, "iat": now})
    assert tokens.verify_for(token, "bob", 1).user_id == "bob"


def _in(seconds: int) -> int:
    return int(time.time()) + seconds


# Each token is made when its test runs (a token made at collection could expire, or become
# valid, before a long suite reaches it).
@pytest.mark.parametrize(
    ("make_token", "code"),
    [
        (lambda: "", ErrCode.TOKEN_NOT_EXIST),
        (lambda: "garbage", ErrCode.TOKEN_MALFORMED),
        (lambda: craft({"UserID": "a", "PlatformID": 5, "exp": _in(-60)}),
         ErrCode.TOKEN_EXPIRED),
        (lambda: craft({"UserID": "a", "PlatformID": 5, "exp": _in(600), "nbf": _in(300)}),
         ErrCode.TOKEN_NOT_VALID_YET),
        (lambda: craft({"UserID": "a", "PlatformID": 5, "exp": _in(3600)}, "other"),
         ErrCode.TOKEN_INVALID),
        (lambda: craft({"UserID": "a", "PlatformID": 5, "exp": _in(3600)}, None, "none"),
         ErrCode.TOKEN_INVALID),
        (lambda: craft({"UserID": "a", "exp": _in(3600)}), ErrCode.TOKEN_UNKNOWN),
        (lambda: craft({"UserID": 7, "PlatformID": 5, "exp": _in(3600)}),
         ErrCode.TOKEN_MALFORMED),
    ],
    ids=["empty", "garbage", "expired", "not-yet-valid", "forged", "alg-none", "no-platform",
         "non-string-user"],
)
def test_refusals_carry_openim_codes(make_token, code: ErrCode):
    with pytest.raises(TokenError) as raised:
        tokens.verify(make_token())
    assert raised.value.code == code


def test_user_and_platform_must_match():
    token = tokens.issue("alice", 5)
    with pytest.raises(TokenError, match="another user") as raised:
        tokens.verify_for(token, "bob", 5)
    assert raised.value.code == ErrCode.TOKEN_INVALID
    with pytest.raises(TokenError, match="another platform"):
        tokens.verify_for(token, "alice", 1)
