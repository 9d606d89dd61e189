"""SIGKILL under load: every acknowledged message survives exactly once, seqs stay dense.

Three senders keep one-to-one messages (to one recipient) and group messages (to a group of
all four) pipelined. At each kill point, a number of acknowledgements into the round, the
node holding the senders or the recipient is SIGKILLed mid-flight. Clients whose connection
died reconnect and resend what was never answered, with the same clientMsgIDs (as the jssdk
does); then the recipient reads every conversation back: every acknowledged message is there
exactly once at the seq its acknowledgement gave, the seqs are exactly 1..n, and the next
send gets n+1 (nothing was allocated beyond what is stored). The load goes on over the same
conversations from round to round, so seqs must also continue across kills.

The scenario is written once and run on three deployments:

``sqlite``
    one server on the embedded store, restarted on the same data directory after each kill;
``postgres``
    one server on a throwaway PostgreSQL (``--postgres-dsn``), restarted the same way;
``cluster``
    three nodes behind nginx with Redis, sharing that PostgreSQL. Each round puts the
    senders on one node and the recipient on another (connecting to the nodes' own ports),
    then kills one of the two, the senders' and the recipient's node in turn; once, one
    sender sits on a third node and goes on writing to the group while the others' node
    dies. Whoever survived carries on sending; those cut off reconnect through nginx, which
    sends them to a surviving node, and the dead node is started again before the next
    round. Every message acknowledged to a sender on one node while the recipient was on
    another (or away, its node dead) must be in the recipient's history, read through
    whichever node it is on now.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import pytest
import redis
from picows import WSHandshakeError

from oimws.client import JssdkClient, ResponseError
from oimws.devcluster import LocalCluster
from tests.cluster.conftest import ClusterAdmin, start_cluster
from tests.support.history import history
from tests.support.server import RunningServer

SENDERS = ("alice", "bob", "carol")
RECIPIENT = "dave"
USERS = (*SENDERS, RECIPIENT)
GROUP_ID = "durable"
IN_FLIGHT = 8  # requests each sender keeps pipelined: half one-to-one, half to the group
WEB = 5
OVER_REQUEST_BUDGET = 1601  # the server's per-connection rate limit: not a failure, wait
ANSWER_TIMEOUT = 10.0
FRONT_DOOR_PATIENCE = 10.0  # seconds a reconnect through nginx may be refused
ROUND_TIMEOUT = 60.0


def one_to_one(user: str) -> str:
    return "si_{}_{}".format(*sorted((user, RECIPIENT)))


GROUP_CONVERSATION = f"sg_{GROUP_ID}"
# every conversation the load writes to -> how the recipient sends into it (recvID, groupID)
CONVERSATIONS = {**{one_to_one(user): (user, "") for user in SENDERS},
                 GROUP_CONVERSATION: ("", GROUP_ID)}


@dataclass(frozen=True)
class Round:
    """Kill the node of ``victim`` (the first sender's or the recipient's) once this round
    has had ``kill_after`` acknowledgements; then wait for ``acks_after_kill`` more from
    whoever survived (none on a single server). With ``split_senders`` (a cluster), the last
    sender sits on a third node, so the group is written from two nodes when one dies."""

    victim: Literal["senders", "recipient"]
    kill_after: int
    acks_after_kill: int = 0
    split_senders: bool = False


# -- the record of what was acknowledged ---------------------------------------------------

class Ledger:
    """Every acknowledged send: clientMsgID -> (conversationID, seq), and where the two
    ends were when it was acknowledged."""

    def __init__(self) -> None:
        self.acked: dict[str, tuple[str, int]] = {}
        self.cross_node = 0  # acknowledged on one node while the recipient was on another
        self.recipient_away = 0  # acknowledged while the recipient's node was dead
        self.refusals: list[str] = []  # answers that were neither an ack nor a lost socket
        self._goal = 0
        self._reached = asyncio.Event()

    def acknowledge(self, client_msg_id: str, conversation: str, seq: int, sender_node: str,
                    recipient_node: str | None) -> None:
        self.acked[client_msg_id] = (conversation, seq)
        if recipient_node is None:
            self.recipient_away += 1
        elif recipient_node != sender_node:
            self.cross_node += 1
        if len(self.acked) >= self._goal:
            self._reached.set()

    async def reach(self, count: int, load: Sequence[asyncio.Future[None]]) -> bool:
        """Wait until ``count`` sends are acknowledged (True) or the load has ended."""
        self._goal = count
        self._reached.clear()
        if len(self.acked) >= count:
            return True
        reached = asyncio.ensure_future(self._reached.wait())
        ended = asyncio.ensure_future(asyncio.wait(load))
        try:
            await asyncio.wait((reached, ended), timeout=ROUND_TIMEOUT,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            reached.cancel()
            ended.cancel()
        return len(self.acked) >= count


# -- the clients ----------------------------------------------------------------------------

class ConnectionLost(Exception):
    """The socket closed before the answer came: the request's outcome is unknown."""


async def answer(client: JssdkClient, func: str, *args: Any) -> Any:
    """``client.call``, except that a dead server is noticed at once instead of after the
    timeout."""
    if client.disconnected.is_set():
        raise ConnectionLost(func)
    call = asyncio.ensure_future(client.call(func, *args, timeout=ANSWER_TIMEOUT))
    gone = asyncio.ensure_future(client.disconnected.wait())
    try:
        await asyncio.wait((call, gone), return_when=asyncio.FIRST_COMPLETED)
        if not call.done():  # an answer read just before the close is still an answer
            await asyncio.wait((call,), timeout=0.1)
    finally:
        gone.cancel()
    if not call.done():
        call.cancel()
        raise ConnectionLost(func)
    return call.result()


@dataclass(frozen=True)
class Send:
    message: dict[str, Any]
    recv_id: str
    group_id: str
    conversation: str


class Sender:
    """One sender's load: ``IN_FLIGHT`` pipelined sends; those cut off by a kill are kept
    and resent with the same clientMsgID after reconnecting."""

    def __init__(self, user: str, ledger: Ledger, recipient_node: Callable[[], str | None]
                 ) -> None:
        self.user = user
        self.ledger = ledger
        self.recipient_node = recipient_node
        self.unanswered: list[Send] = []
        self._template: dict[str, Any] | None = None

    def new_send(self, template: dict[str, Any], to_group: bool) -> Send:
        message = dict(template, clientMsgID=uuid.uuid4().hex)
        if to_group:
            return Send(message, "", GROUP_ID, GROUP_CONVERSATION)
        return Send(message, RECIPIENT, "", one_to_one(self.user))

    async def prepare(self, client: JssdkClient) -> None:
        """Before the load starts (a kill may come right after its first acknowledgement)."""
        if self._template is None:
            self._template = await client.call("CreateTextMessage", "load")

    async def load(self, client: JssdkClient, node: str, stop: asyncio.Event) -> None:
        template = self._template
        assert template is not None, "prepare() first"

        async def pipeline(to_group: bool) -> None:
            while not stop.is_set() and await self.send(
                    client, node, self.new_send(template, to_group)):
                pass

        await asyncio.gather(*(pipeline(i % 2 == 1) for i in range(IN_FLIGHT)))

    async def send(self, client: JssdkClient, node: str, send: Send) -> bool:
        """Send until answered; False if the connection died (or an error came) first."""
        while True:
            try:
                result = await answer(client, "SendMessage", send.message, send.recv_id,
                                      send.group_id, {}, False)
            except ConnectionLost:
                self.unanswered.append(send)
                return False
            except ResponseError as exc:
                if exc.code == OVER_REQUEST_BUDGET:
                    await asyncio.sleep(0.05)
                    continue
                self.ledger.refusals.append(f"{self.user} on {node}: {exc}")
                self.unanswered.append(send)
                return False
            except TimeoutError:
                self.ledger.refusals.append(f"{self.user} on {node}: no answer")
                self.unanswered.append(send)
                return False
            assert result["clientMsgID"] == send.message["clientMsgID"], result
            self.ledger.acknowledge(result["clientMsgID"], send.conversation, result["seq"],
                                    node, self.recipient_node())
            return True

    async def resend_unanswered(self, client: JssdkClient, node: str) -> None:
        sends, self.unanswered = self.unanswered, []
        answered = await asyncio.gather(*(self.send(client, node, s) for s in sends))
        assert all(answered), self.ledger.refusals


async def logged_in(url: str, user: str, token: str, path: str = "/") -> JssdkClient:
    client = await JssdkClient.connect(url, user, token, WEB, path=path)
    await client.login()
    return client


# -- deployments ----------------------------------------------------------------------------

class Deployment(Protocol):
    ROUNDS: tuple[Round, ...]
    cross_node: bool  # whether senders and recipient are put on different nodes

    def register(self, users: tuple[str, ...]) -> None: ...

    def plan(self, number: int, spec: Round) -> dict[str, str]:
        """Which node each user is to be on in round ``number``."""

    async def connect(self, user: str, node: str | None) -> tuple[JssdkClient, str]:
        """A logged-in client on ``node`` (None: wherever the front door sends it), and the
        node it is on."""

    def kill(self, node: str) -> None:
        """SIGKILL the node; a lone server is started again on the same store at once."""

    def revive(self, node: str) -> None: ...

    def logs(self) -> str:
        """For a failure's report."""


class SingleServer:
    """One ``oimws serve``; killing it is followed by a restart on the same store."""

    ROUNDS: tuple[Round, ...] = (Round("senders", 1), Round("senders", 150),
                                 Round("senders", 600))
    cross_node = False
    NODE = "server"

    def __init__(self, start: Callable[[], RunningServer]) -> None:
        self._start = start
        self.server = start()

    def register(self, users: tuple[str, ...]) -> None:
        self.server.register(*users)

    def plan(self, number: int, spec: Round) -> dict[str, str]:
        return dict.fromkeys(USERS, self.NODE)

    async def connect(self, user: str, node: str | None) -> tuple[JssdkClient, str]:
        server = self.server
        return await logged_in(server.ws_url, user, server.user_token(user)), self.NODE

    def kill(self, node: str) -> None:
        assert self.server.process is not None
        self.server.process.send_signal(signal.SIGKILL)
        self.server.process.wait(10)
        self.server = self._start()

    def revive(self, node: str) -> None:
        pass  # started again by kill

    def logs(self) -> str:
        return ""  # tests.support.fixtures adds the server's log to a failure's report


class Cluster:
    """Nodes behind nginx; a killed node stays dead until ``revive``."""

    ROUNDS: tuple[Round, ...] = (
        Round("senders", 1), Round("recipient", 100, acks_after_kill=100),
        Round("senders", 300, acks_after_kill=100, split_senders=True),
        Round("recipient", 1, acks_after_kill=50))
    cross_node = True

    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster
        self.admin = ClusterAdmin(cluster)
        self.nodes = {node.node_id: node for node in cluster.nodes}
        self.redis = redis.Redis.from_url(cluster.redis.url)
        self._tokens: dict[str, str] = {}

    def register(self, users: tuple[str, ...]) -> None:
        self.admin.register(*users)

    def plan(self, number: int, spec: Round) -> dict[str, str]:
        """Senders on one node, the recipient on the next (the last sender on the third
        with ``split_senders``), turning with the round's number."""
        ids = list(self.nodes)
        senders, recipient, third = (ids[(number + i) % len(ids)] for i in range(3))
        placement = {**dict.fromkeys(SENDERS, senders), RECIPIENT: recipient}
        if spec.split_senders:
            placement[SENDERS[-1]] = third
        return placement

    async def connect(self, user: str, node: str | None) -> tuple[JssdkClient, str]:
        token = self._tokens.get(user) or self._tokens.setdefault(user, self.admin.token(user))
        if node is not None:
            return await logged_in(self.nodes[node].ws_url, user, token), node
        # nginx skips a node for fail_timeout (5 s) after a failed connect, even once it is
        # back: with this test's kills seconds apart, every node may be skipped for a moment
        # (502 "no live upstreams"). Like any client, try again shortly.
        deadline = time.monotonic() + FRONT_DOOR_PATIENCE
        while True:
            try:
                client = await logged_in(self.cluster.ws_url, user, token, path="")
            except WSHandshakeError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
                continue
            return client, await self._placement(user)

    async def _placement(self, user: str) -> str:
        """The live node whose presence in Redis lists the user (each node publishes its
        users there; nothing else tells which node nginx picked)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            holding = [node_id for node_id, node in self.nodes.items()
                       if node.service is not None
                       and self.redis.hexists(f"oimws:presence:{node_id}", user)]
            if len(holding) == 1:
                return holding[0]
            await asyncio.sleep(0.02)
        raise AssertionError(f"{user} did not show up on exactly one live node")

    def kill(self, node: str) -> None:
        self.nodes[node].kill()

    def revive(self, node: str) -> None:
        self.nodes[node].start()

    def logs(self) -> str:
        return self.cluster.logs()

    def close(self) -> None:
        self.redis.close()
        for node in self.cluster.nodes:  # SIGKILL: the data is thrown away anyway
            node.kill()
        self.cluster.nginx.stop()
        self.cluster.redis.stop()


# -- the scenario ---------------------------------------------------------------------------

def seq_faults(seqs: list[int]) -> str:
    repeated = sorted(seq for seq, n in Counter(seqs).items() if n > 1)
    missing = sorted(set(range(1, max(seqs, default=0) + 1)) - set(seqs))
    return f"{len(seqs)} seqs, repeated {repeated[:20]}, missing {missing[:20]}"


async def check_history(reader: JssdkClient, ledger: Ledger) -> None:
    """Every acknowledged message stored once at its acknowledged seq; seqs exactly 1..n;
    the next send in each conversation gets n + 1."""
    stored: dict[str, tuple[str, int]] = {}
    sizes: dict[str, int] = {}
    for conversation in CONVERSATIONS:
        messages = await history(reader, conversation)
        seqs = [m["seq"] for m in messages]
        assert seqs == list(range(1, len(seqs) + 1)), f"{conversation}: {seq_faults(seqs)}"
        for message in messages:
            assert message["clientMsgID"] not in stored, f"stored twice: {message}"
            stored[message["clientMsgID"]] = (conversation, message["seq"])
        sizes[conversation] = len(seqs)
    missing = ledger.acked.keys() - stored.keys()
    assert not missing, f"{len(missing)} of {len(ledger.acked)} acknowledged messages lost"
    moved = {key: (where, stored[key]) for key, where in ledger.acked.items()
             if stored[key] != where}
    assert not moved, f"stored elsewhere than acknowledged: {list(moved.items())[:5]}"
    template = await reader.call("CreateTextMessage", "probe")
    for conversation, size in sizes.items():
        probe = dict(template, clientMsgID=uuid.uuid4().hex)
        result = await reader.call("SendMessage", probe, *CONVERSATIONS[conversation], {},
                                   False)
        assert result["seq"] == size + 1, f"{conversation}: next seq {result['seq']} after {size}"
        ledger.acknowledge(result["clientMsgID"], conversation, result["seq"], "", "")


class Scenario:
    """The senders, the recipient and their clients over the rounds of one test."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.ledger = Ledger()
        self.clients: dict[str, JssdkClient] = {}
        self.where: dict[str, str | None] = {}  # user -> node (None: cut off by a kill)
        self.senders = {user: Sender(user, self.ledger, lambda: self.where.get(RECIPIENT))
                        for user in SENDERS}

    async def connect(self, user: str, node: str | None) -> None:
        old = self.clients.get(user)
        if old is not None and not old.disconnected.is_set():
            await old.close()
        self.clients[user], self.where[user] = await self.deployment.connect(user, node)

    async def run(self) -> Ledger:
        self.deployment.register(USERS)
        try:
            for number, spec in enumerate(self.deployment.ROUNDS):
                await self.round(number, spec)
        finally:
            for client in self.clients.values():
                with contextlib.suppress(Exception):
                    await client.close()
        return self.ledger

    async def round(self, number: int, spec: Round) -> None:
        placement = self.deployment.plan(number, spec)
        for user, node in placement.items():
            if self.where.get(user) != node or self.clients[user].disconnected.is_set():
                await self.connect(user, node)
        if number == 0:
            await self.clients[SENDERS[0]].call("CreateGroup", {
                "groupInfo": {"groupID": GROUP_ID, "groupName": "Durable"},
                "memberUserIDs": [*SENDERS[1:], RECIPIENT]})
        for user, sender in self.senders.items():
            await sender.prepare(self.clients[user])

        ledger = self.ledger
        stop = asyncio.Event()
        load = [asyncio.ensure_future(self.senders[user].load(self.clients[user],
                                                              placement[user], stop))
                for user in SENDERS]
        try:
            reached = await ledger.reach(len(ledger.acked) + spec.kill_after, load)
            assert reached, f"the load stopped before the kill point: {ledger.refusals}"
            victim = placement[SENDERS[0] if spec.victim == "senders" else RECIPIENT]
            self.deployment.kill(victim)  # mid-flight: more sends pipelined than answered
            for user in USERS:
                if self.where[user] == victim:
                    self.where[user] = None
            if spec.acks_after_kill:
                reached = await ledger.reach(len(ledger.acked) + spec.acks_after_kill, load)
                assert reached, f"the survivors' load stopped after node {victim} died"
        finally:
            stop.set()
            await asyncio.gather(*load)
        assert not ledger.refusals, ledger.refusals

        # those cut off come back through the front door and resend what got no answer
        for user in USERS:
            if self.where[user] is None or self.clients[user].disconnected.is_set():
                await self.connect(user, None)
        for user, sender in self.senders.items():
            await sender.resend_unanswered(self.clients[user], str(self.where[user]))
        await check_history(self.clients[RECIPIENT], ledger)
        self.deployment.revive(victim)


# -- the tests -----------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgres", "cluster"])
def deployment(request: pytest.FixtureRequest, server_factory, tmp_path: Path
               ) -> Iterator[Deployment]:
    if request.param == "cluster":
        dsn = request.getfixturevalue("postgres_dsn")
        cluster = Cluster(start_cluster(tmp_path, 3, ["--postgres-dsn", dsn]))
        try:
            yield cluster
        finally:
            cluster.close()
        return
    store_args = ["--postgres-dsn", request.getfixturevalue("postgres_dsn")] if (
        request.param == "postgres") else []
    secret = uuid.uuid4().hex  # the same for every restart: tokens stay valid
    yield SingleServer(lambda: server_factory(store_args, tmp_path=tmp_path, secret=secret))


async def test_every_acknowledged_message_survives_sigkill_exactly_once(
        deployment: Deployment):
    try:
        ledger = await Scenario(deployment).run()
    except BaseException:
        print(deployment.logs())
        raise
    rounds = deployment.ROUNDS
    assert len(ledger.acked) >= sum(r.kill_after + r.acks_after_kill for r in rounds)
    if deployment.cross_node:  # as many as were waited for, at least
        assert ledger.cross_node >= sum(r.kill_after for r in rounds) + sum(
            r.acks_after_kill for r in rounds if r.victim == "senders")
        assert ledger.recipient_away >= sum(
            r.acks_after_kill for r in rounds if r.victim == "recipient")
