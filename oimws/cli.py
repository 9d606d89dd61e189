"""The ``oimws`` command: serve, token, functions, admin."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from oimws import __version__, logs
from oimws.config import ConfigError, load_config

SERVE_FLAGS = (
    ("--host", str, "address to listen on (default 127.0.0.1)"),
    ("--ws-port", int, "WebSocket (jssdk) port (default 10003)"),
    ("--api-port", int, "admin REST API port (default 10002)"),
    ("--data-dir", str, "where the embedded store lives (default ./data)"),
    ("--secret", str, "token signing secret (default OpenIM's openIM123)"),
    ("--log-level", str, "debug, info, warning, error (default info)"),
    ("--log-format", str, "json, text, or auto: text on a terminal, else JSON lines (default)"),
    ("--tls-cert", str, "PEM certificate (chain): serve wss:// and https://"),
    ("--tls-key", str, "PEM private key of --tls-cert"),
    ("--workers", int, "processes sharing the ports on this host (default 1; >1 needs Redis)"),
    ("--redis-url", str, "Redis for presence and delivery between nodes (cluster mode)"),
    ("--postgres-dsn", str, "PostgreSQL as the shared store instead of SQLite (cluster mode)"),
    ("--node-id", str, "this node's name in the cluster (default host name and pid)"),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oimws", description=__doc__)
    parser.add_argument("--version", action="version", version=f"oimws {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the gateway")
    for flag, kind, help_text in SERVE_FLAGS:
        serve.add_argument(flag, type=kind, default=None, help=help_text)
    serve.add_argument("--config", default=None, help="TOML file with settings")
    serve.add_argument("--demo", dest="demo", action="store_const", const=True, default=None,
                       help="let the demo page at /demo/ sign users up (loopback only)")
    serve.add_argument("--no-demo", dest="demo_page", action="store_const", const=False,
                       default=None, help="do not serve the demo page")

    token = commands.add_parser("token", help="print a user token (HS256 JWT) for scripts")
    token.add_argument("--user", required=True, help="userID the token is for")
    token.add_argument("--platform", type=int, default=5, help="platformID (default 5, Web)")
    token.add_argument("--secret", default=None)
    token.add_argument("--config", default=None)

    commands.add_parser("functions", help="list the jssdk functions this gateway serves")
    commands.add_parser("openapi", help="print the admin API's OpenAPI document")
    commands.add_parser("bench", help="the load harness (see `oimws bench --help`)",
                        add_help=False)
    _add_admin_parser(commands)
    return parser


def _add_admin_parser(commands: Any) -> None:
    admin = commands.add_parser(
        "admin", help="call a running gateway's admin API (register, tokens, send, logout)")
    admin.add_argument("--api", default=None,
                       help="admin API URL (default $OIMWS_API_URL, else "
                            "http://127.0.0.1:<api_port>)")
    admin.add_argument("--secret", default=None, help="the gateway's secret (default: config)")
    admin.add_argument("--config", default=None, help="TOML file with settings")
    admin.add_argument("--admin-user", default=None,
                       help="admin user ID (default: the first of admin_user_ids)")
    admin.add_argument("--insecure", action="store_true",
                       help="accept a self-signed TLS certificate")
    actions = admin.add_subparsers(dest="action", required=True)
    register = actions.add_parser("register", help="register users")
    register.add_argument("users", nargs="+", metavar="USER")
    register.add_argument("--nickname", default="", help="default: the user ID")
    register.add_argument("--face-url", default="")
    token = actions.add_parser("token", help="print a user token")
    token.add_argument("user")
    token.add_argument("--platform", type=int, default=5, help="platformID (default 5, Web)")
    send = actions.add_parser("send", help="send a text message as a user")
    send.add_argument("--from", dest="sender", required=True)
    target = send.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", default="", help="recipient user ID")
    target.add_argument("--group", default="", help="group ID")
    send.add_argument("--online-only", action="store_true")
    send.add_argument("text")
    logout = actions.add_parser("force-logout",
                                help="kick a user's session on a platform, revoke its tokens")
    logout.add_argument("user")
    logout.add_argument("--platform", type=int, default=5)
    call = actions.add_parser("call", help="POST any endpoint with an admin token")
    call.add_argument("path", help="e.g. /user/get_users_info")
    call.add_argument("body", nargs="?", default="{}", help="JSON body (default {})")


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    flags = {flag[2:].replace("-", "_"): getattr(args, flag[2:].replace("-", "_"), None)
             for flag, _, _ in SERVE_FLAGS}
    flags.update(demo=args.demo, demo_page=args.demo_page)
    return flags


def _serve(args: argparse.Namespace) -> int:
    config = load_config(_flags(args), args.config)
    logs.configure(config.log_level, config.log_format, secrets=(config.secret,))
    if config.workers > 1:
        from oimws.app import node_name
        from oimws.supervisor import Supervisor

        return Supervisor(config.workers, args.argv, node_name(config)).run()
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


def _openapi(args: argparse.Namespace) -> int:
    from oimws.admin.openapi import build_document, render
    from oimws.admin.server import all_endpoints

    sys.stdout.buffer.write(render(build_document(all_endpoints())))
    return 0


def _admin(args: argparse.Namespace) -> int:
    from oimws.admin.client import AdminCallError, AdminClient

    config = load_config({"secret": args.secret}, args.config)
    scheme = "https" if config.uses_tls else "http"
    api_url = (args.api or os.environ.get("OIMWS_API_URL")
               or f"{scheme}://127.0.0.1:{config.api_port}")
    admin_user = args.admin_user or config.admin_user_ids[0]
    client = AdminClient(api_url, config.secret, admin_user, insecure=args.insecure)
    try:
        if args.action == "register":
            client.register(args.users, args.nickname, args.face_url)
            result: Any = {"registered": args.users}
        elif args.action == "token":
            result = client.user_token(args.user, args.platform)
        elif args.action == "send":
            result = client.send_text(args.sender, args.text, recv_id=args.to,
                                      group_id=args.group, online_only=args.online_only)
        elif args.action == "force-logout":
            client.force_logout(args.user, args.platform)
            result = {"loggedOut": args.user, "platformID": args.platform}
        else:
            try:
                body = json.loads(args.body)
            except ValueError as exc:
                print(f"oimws admin: the body is not JSON: {exc}", file=sys.stderr)
                return 2
            result = client.admin_call(args.path, body)
    except AdminCallError as exc:
        print(f"oimws admin: {exc}", file=sys.stderr)
        return 1
    print(result if isinstance(result, str) else json.dumps(result, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        # The load harness has its own command line (python -m oimws.bench --help).
        from oimws.bench import main as bench_main

        return bench_main(argv[1:])
    args = _parser().parse_args(argv)
    args.argv = argv  # the workers of ``serve --workers N`` are started with the same flags
    try:
        command = {"serve": _serve, "token": _token, "functions": _functions,
                   "openapi": _openapi, "admin": _admin}[args.command]
        return command(args)
    except ConfigError as exc:
        print(f"oimws: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
