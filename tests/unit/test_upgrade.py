import json

import pytest

from oimws.protocol.errors import ErrCode
from oimws.tokens import TokenService
from oimws.transport.upgrade import UpgradeRefused, admit

tokens = TokenService("secret", 3600)


def test_query_parameters_and_any_path():
    token = tokens.issue("alice", 5)
    for path in ("/", "/ws", "/any/thing"):
        connect = admit(f"{path}?sendID=alice&token={token}&platformID=5&operationID=op".encode(),
                        {}, tokens)
        assert (connect.user_id, connect.platform_id, connect.operation_id) == ("alice", 5, "op")


def test_bearer_header_carries_the_token():
    token = tokens.issue("bob", 1)
    connect = admit(b"/?sendID=bob&platformID=1", {"Authorization": f"Bearer {token}"}, tokens)
    assert connect.user_id == "bob"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        (b"/?platformID=5", 400, ErrCode.CONN_ARGS),
        (b"/?sendID=alice&platformID=web", 400, ErrCode.CONN_ARGS),
        (b"/?sendID=alice&platformID=99", 400, ErrCode.CONN_ARGS),
        (b"/?sendID=alice&platformID=0", 400, ErrCode.CONN_ARGS),
        (b"/?sendID=alice&platformID=5", 401, ErrCode.TOKEN_NOT_EXIST),
        (b"/?sendID=alice&platformID=5&token=xyz", 401, ErrCode.TOKEN_MALFORMED),
    ],
)
def test_refusals(path: bytes, status: int, code: ErrCode):
    with pytest.raises(UpgradeRefused) as raised:
        admit(path, {}, tokens)
    assert (raised.value.status, raised.value.code) == (status, code)
    assert json.loads(raised.value.body())["errCode"] == code


def test_token_of_another_user_is_refused():
    token = tokens.issue("mallory", 5)
    with pytest.raises(UpgradeRefused) as raised:
        admit(f"/?sendID=alice&platformID=5&token={token}".encode(), {}, tokens)
    assert (raised.value.status, raised.value.code) == (401, ErrCode.TOKEN_INVALID)
