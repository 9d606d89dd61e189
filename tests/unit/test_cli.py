import subprocess
import sys

from oimws.cli import main
from oimws.tokens import TokenService


def test_token_command_prints_a_verifiable_token(capsys):
    assert main(["token", "--user", "alice", "--platform", "1", "--secret", "abc"]) == 0
    token = capsys.readouterr().out.strip()
    claims = TokenService("abc", 60).verify_for(token, "alice", 1)
    assert claims.user_id == "alice"


def test_functions_command_lists_registered_functions(capsys):
    assert main(["functions"]) == 0
    out = capsys.readouterr().out
    assert "SendMessage(message, recvID, groupID, offlinePushInfo, isOnlineOnly)" in out
    assert "Login(userID, token)" in out


def test_configuration_errors_exit_2(capsys, monkeypatch):
    monkeypatch.setenv("OIMWS_WS_PORT", "not-a-port")
    assert main(["token", "--user", "a"]) == 2
    assert "setting 'ws_port': cannot use 'not-a-port'" in capsys.readouterr().err


def test_import_without_compiled_extensions_says_how_to_build():
    code = ("import sys; sys.modules['oimws._speedups.codec'] = None\n"
            "try:\n    import oimws\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "make build" in out and "compiled extensions" in out
