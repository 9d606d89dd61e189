"""What the session registry needs from the rest of a cluster (no implementation here).

On one node there is no cluster: the registry has no link and delivers locally only. With a
link, it learns which other nodes hold which users, forwards ONE encoded frame per target
node, tells the others about its own users coming and going, and asks the node holding a
displaced session to kick it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

# A node's handler for a frame another node forwarded: (user IDs, frame).
FrameReceiver = Callable[[list[str], bytes], None]
# A node's handler for a kick another node asked for: (user ID, platform ID).
KickReceiver = Callable[[str, int], None]
# A node's handler for a forced logout on another node: (user ID, platform ID, before ms).
RevocationReceiver = Callable[[str, int, int], None]


class ClusterLink(Protocol):
    node_id: str

    def nodes_for(self, user_ids: Iterable[str]) -> dict[str, list[str]]:
        """Other nodes -> which of these users each holds (from the shared presence)."""

    def forward(self, by_node: dict[str, list[str]], frame: bytes) -> None:
        """Send the frame once to each node, for its local sessions of those users."""

    def announce(self, user_id: str, platforms: tuple[int, ...]) -> None:
        """This node's sessions of the user are now on these platforms (empty: gone)."""

    def kick_elsewhere(self, user_id: str, platform_id: int) -> None:
        """Ask every other node holding the user on that platform to kick that session."""

    def on_frame(self, receiver: FrameReceiver) -> None:
        """Who handles frames other nodes forward to this one."""

    def on_kick(self, receiver: KickReceiver) -> None:
        """Who handles kicks other nodes ask this one for."""

    def broadcast_revocation(self, user_id: str, platform_id: int, before_ms: int) -> None:
        """Tell every other node that the user's tokens for the platform issued before
        ``before_ms`` are revoked (a forced logout)."""

    def on_revocation(self, receiver: RevocationReceiver) -> None:
        """Who handles forced logouts made on other nodes."""
