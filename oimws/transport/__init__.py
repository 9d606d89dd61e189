"""The picows listener: upgrade and token check, frames in, frames out, limits.

Knows nothing of reqFuncNames or IM rules: whole payloads go to the dispatcher.
"""

from oimws.transport.server import WebSocketGateway

__all__ = ["WebSocketGateway"]
