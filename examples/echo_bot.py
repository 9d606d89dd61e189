"""An echo bot: answers every one-to-one message it gets, live, by handling pushes.

The gateway pushes ``OnRecvNewMessages`` (``data``: a JSON list of MessageItems) to every
device of a recipient the moment a message is stored. The bot reads those pushes, answers
each text with ``echo: <text>`` (and pictures with a compliment), and marks the conversation
read so the sender sees "Read". It registers itself (``echo-bot``) when needed, reconnects when
the connection drops, and stops on Ctrl-C or SIGTERM.

    python examples/echo_bot.py --api http://127.0.0.1:10002 --ws ws://127.0.0.1:10003

Then write to ``echo-bot`` from the web demo (http://127.0.0.1:10002/demo/) or any client.
It uses the small client in ``python_client.py`` next to it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any

from python_client import PLATFORM_LINUX, Client, decode, register, user_token

BOT_ID = "echo-bot"
BOT_NAME = "Echo Bot"
SINGLE_CHAT = 1
TEXT, PICTURE, TYPING = 101, 102, 113


def answer(message: dict[str, Any]) -> str | None:
    """What the bot says to one message (None: nothing, e.g. to a typing notice)."""
    kind = message.get("contentType")
    if kind == TEXT:
        return f"echo: {message['textElem']['content']}"
    if kind == PICTURE:
        return "Nice picture!"
    if kind == TYPING or (kind or 0) >= 1000:  # typing, notifications
        return None
    return f"(got a message of type {kind})"


def conversation_id(a: str, b: str) -> str:
    first, second = sorted((a, b))
    return f"si_{first}_{second}"


async def handle(client: Client, frame: dict[str, Any]) -> None:
    if frame.get("event") != "OnRecvNewMessages":
        return
    for message in decode(frame):
        sender = message["sendID"]
        if message.get("sessionType") != SINGLE_CHAT or sender == BOT_ID:
            continue
        reply = answer(message)
        if reply is None:
            continue
        await client.send_text(reply, recv_id=sender)
        await client.call("MarkConversationMessageAsRead", conversation_id(BOT_ID, sender))
        print(f"{sender}: {reply}", flush=True)


async def serve_once(args: argparse.Namespace, stop: asyncio.Event) -> None:
    """One connection: answer pushes until it drops or we are told to stop."""
    token = user_token(args.api, args.secret, BOT_ID, PLATFORM_LINUX)
    pushes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client = await Client.connect(args.ws, BOT_ID, token, PLATFORM_LINUX, pushes.put_nowait)
    print(f"{BOT_ID} is online: write to it and it answers", flush=True)
    ends = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(client.closed.wait())]
    try:
        while True:
            push = asyncio.ensure_future(pushes.get())
            done, _ = await asyncio.wait([push, *ends], return_when=asyncio.FIRST_COMPLETED)
            if push not in done:
                push.cancel()
                return
            await handle(client, push.result())
    finally:
        for end in ends:
            end.cancel()
        await client.close()


async def main(args: argparse.Namespace) -> int:
    register(args.api, args.secret, {BOT_ID: BOT_NAME})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    while not stop.is_set():
        try:
            await serve_once(args, stop)
        except (OSError, RuntimeError, TimeoutError) as exc:
            print(f"connection failed: {exc}", file=sys.stderr, flush=True)
        if not stop.is_set():
            print(f"reconnecting in {args.retry:g} s", file=sys.stderr, flush=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), args.retry)
    print(f"{BOT_ID} stopped", flush=True)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api", default="http://127.0.0.1:10002", help="admin API URL")
    parser.add_argument("--ws", default="ws://127.0.0.1:10003", help="jssdk WebSocket URL")
    parser.add_argument("--secret", default="openIM123", help="the server's --secret")
    parser.add_argument("--retry", type=float, default=3.0, help="seconds between reconnects")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
