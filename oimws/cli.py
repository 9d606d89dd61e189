"""The ``oimws`` command: serve, token, functions."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from oimws import __version__
from oimws.config import ConfigError, load_config

SERVE_FLAGS = (
    ("--host", str, "address to listen on (default 127.0.0.1)"),
    ("--ws-port", int, "WebSocket (jssdk) port (default 10003)"),
    ("--api-port", int, "admin REST API port (default 10002)"),
    ("--data-dir", str, "where the embedded store lives (default ./data)"),
    ("--secret", str, "token signing secret (default OpenIM's openIM123)"),
    ("--log-level", str, "debug, info, warning, error (default info)"),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oimws", description=__doc__)
    parser.add_argument("--version", action="version", version=f"oimws {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the gateway")
    for flag, kind, help_text in SERVE_FLAGS:
        serve.add_argument(flag, type=kind, default=None, help=help_text)
    serve.add_argument("--config", default=None, help="TOML file with settings")

    token = commands.add_parser("token", help="print a user token (HS256 JWT) for scripts")
    token.add_argument("--user", required=True, help="userID the token is for")
    token.add_argument("--platform", type=int, default=5, help="platformID (default 5, Web)")
    token.add_argument("--secret", default=None)
    token.add_argument("--config", default=None)

    commands.add_parser("functions", help="list the jssdk functions this gateway serves")
    return parser


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {flag[2:].replace("-", "_"): getattr(args, flag[2:].replace("-", "_"), None)
            for flag, _, _ in SERVE_FLAGS}


def _serve(args: argparse.Namespace) -> int:
    config = load_config(_flags(args), args.config)
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    import uvloop

    from oimws.app import serve

    uvloop.run(serve(config))
    return 0


def _token(args: argparse.Namespace) -> int:
    from oimws.tokens import TokenService

    config = load_config({"secret": args.secret}, args.config)
    print(TokenService(config.secret, config.token_expire_seconds).issue(args.user, args.platform))
    return 0


def _functions(args: argparse.Namespace) -> int:
    from oimws.dispatch import registered_functions

    for spec in registered_functions():
        arguments = ", ".join(arg.name for arg in spec.args)
        print(f"{spec.name}({arguments})" + (f"  - {spec.summary}" if spec.summary else ""))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        command = {"serve": _serve, "token": _token, "functions": _functions}[args.command]
        return command(args)
    except ConfigError as exc:
        print(f"oimws: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
