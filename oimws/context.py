"""What every handler gets besides the session: the services built once at startup."""

from __future__ import annotations

import dataclasses

from oimws.config import Config
from oimws.delivery import SessionRegistry
from oimws.delivery.coalesce import PerTickCoalescer
from oimws.protocol.codec import Codec
from oimws.store import Store
from oimws.tokens import TokenService


@dataclasses.dataclass(frozen=True, slots=True)
class AppContext:
    config: Config
    store: Store
    delivery: SessionRegistry
    tokens: TokenService
    codec: Codec
    # conversation changes to push, once per user per loop tick (see handlers.conversation)
    conversation_updates: PerTickCoalescer = dataclasses.field(default_factory=PerTickCoalescer)
