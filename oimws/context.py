"""What every handler gets besides the session: the services built once at startup."""

from __future__ import annotations

import dataclasses

from oimws.config import Config
from oimws.delivery import SessionRegistry
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
