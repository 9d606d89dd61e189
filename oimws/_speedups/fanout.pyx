# cython: language_level=3
"""Fan-out: write ONE encoded text frame to many picows transports.

``WSTransport.send`` is a C-level call here (``cimport``), so the per-recipient cost is the
kernel write, not Python dispatch. A recipient whose unsent backlog passes the write-buffer
limit is returned to the caller (who disconnects it) rather than slowing everyone else.

``FrameBatcher`` goes below one write per frame: frames queued for a connection during one
event-loop tick (a group commit's worth of messages, a message and the conversation changes
it causes) leave in ONE socket write at the start of the next tick. Server frames are not
masked, so framing a batch is a header per frame and one copy into one buffer.

Every text frame is framed here and written to the socket's transport as one immutable
``bytes``, never through ``WSTransport.send``: picows 2.3 (without aiofastnet) hands a frame
over 8 KiB to the transport by pointing into its own reusable write buffer, which the next
send overwrites while uvloop still holds a backlog, so a busy socket got garbled frames. An
unmasked server frame is the same for every recipient, so fan-out frames it once.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.string cimport memcpy
from picows.picows cimport WSTransport

import asyncio


cpdef list send_to_all(list transports, bytes frame, Py_ssize_t write_buffer_limit):
    cdef list overflowed = None
    cdef WSTransport transport
    cdef Py_ssize_t backlog
    cdef bytes framed = None
    for item in transports:
        transport = <WSTransport?>item  # checked: a wrong object raises, never corrupts
        if transport.is_disconnected or transport.is_close_frame_sent:
            continue
        if framed is None:
            framed = text_frames([frame])
        transport.underlying_transport.write(framed)
        backlog = transport.underlying_transport.get_write_buffer_size()
        if backlog > write_buffer_limit:
            if overflowed is None:
                overflowed = []
            overflowed.append(transport)
    return overflowed if overflowed is not None else []


cdef inline Py_ssize_t _header_size(Py_ssize_t size) noexcept:
    if size < 126:
        return 2
    if size < 65536:
        return 4
    return 10


cdef inline char *_write_header(char *out, Py_ssize_t size) noexcept:
    # FIN + TEXT, unmasked (server to client)
    out[0] = <char>0x81
    cdef int i
    if size < 126:
        out[1] = <char>size
        return out + 2
    if size < 65536:
        out[1] = <char>126
        out[2] = <char>((size >> 8) & 0xFF)
        out[3] = <char>(size & 0xFF)
        return out + 4
    out[1] = <char>127
    for i in range(8):
        out[2 + i] = <char>((size >> (8 * (7 - i))) & 0xFF)
    return out + 10


cpdef bytes text_frames(list frames):
    """Several payloads framed as consecutive unmasked TEXT frames, in one buffer."""
    cdef Py_ssize_t total = 0, size
    cdef bytes payload
    for item in frames:
        size = PyBytes_GET_SIZE(<bytes?>item)
        total += _header_size(size) + size
    cdef bytes out = PyBytes_FromStringAndSize(NULL, total)
    cdef char *cursor = PyBytes_AS_STRING(out)
    for item in frames:
        payload = <bytes>item
        size = PyBytes_GET_SIZE(payload)
        cursor = _write_header(cursor, size)
        memcpy(cursor, PyBytes_AS_STRING(payload), size)
        cursor += size
    return out


cdef class _Pending:
    """What is queued for one transport this tick."""


cdef class FrameBatcher:
    """Per-tick write batching for the transports of one event loop.

    ``queue_all`` queues a frame for many transports; at the start of the next loop tick
    every transport gets everything queued for it in one write. ``send_now`` writes at once,
    after whatever is queued for the same transport, so frames keep their order. After a
    write, a transport whose backlog passes ``limit`` is handed to ``on_overflow`` (the
    caller's slow-consumer policy).
    """

    def __cinit__(self, loop=None):
        self._pending = {}
        self._loop = loop  # default: the running loop at the first queue_all
        self._scheduled = False
        self.frames = 0
        self.writes = 0

    cdef inline bint _usable(self, WSTransport transport) noexcept:
        return not (transport.is_disconnected or transport.is_close_frame_sent)

    cpdef queue_all(self, list transports, bytes frame, Py_ssize_t limit, object on_overflow):
        cdef WSTransport transport
        cdef _Pending entry
        for item in transports:
            transport = <WSTransport?>item
            if not self._usable(transport):
                continue
            entry = <_Pending>self._pending.get(transport)
            if entry is None:
                entry = _Pending.__new__(_Pending)
                entry.frames = [frame]
                self._pending[transport] = entry
            else:
                entry.frames.append(frame)
            entry.limit = limit
            entry.on_overflow = on_overflow
            self.frames += 1
        if self._pending and not self._scheduled:
            self._schedule()

    cdef _schedule(self):
        if self._loop is None:
            try:
                self._loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop (a script, a test): nothing to wait for
                self.flush()
                return
        self._scheduled = True
        self._loop.call_soon(self.flush)

    cpdef send_now(self, WSTransport transport, bytes frame):
        """Write ``frame`` now, behind anything still queued for this transport."""
        cdef _Pending entry = <_Pending>self._pending.pop(transport, None)
        self.frames += 1
        self.writes += 1
        if entry is None:
            transport.underlying_transport.write(text_frames([frame]))
        else:
            entry.frames.append(frame)
            transport.underlying_transport.write(text_frames(entry.frames))

    cpdef flush(self):
        """Write everything queued (normally called by the loop, once per tick)."""
        self._scheduled = False
        if not self._pending:
            return
        cdef dict pending = self._pending
        self._pending = {}
        cdef WSTransport transport
        cdef _Pending entry
        cdef dict framed_once = {}  # id(frame) -> framed: one frame for many sockets
        cdef bytes framed
        cdef object frame
        for key, value in pending.items():
            transport = <WSTransport>key
            entry = <_Pending>value
            if not self._usable(transport):
                continue
            self.writes += 1
            if len(entry.frames) == 1:
                # the entries keep every frame alive through this loop: ids stay unique
                frame = entry.frames[0]
                framed = framed_once.get(id(frame))
                if framed is None:
                    framed = text_frames([frame])
                    framed_once[id(frame)] = framed
                transport.underlying_transport.write(framed)
            else:
                transport.underlying_transport.write(text_frames(entry.frames))
            if (entry.on_overflow is not None
                    and transport.underlying_transport.get_write_buffer_size() > entry.limit):
                entry.on_overflow(transport)

    def pending_transports(self):
        return len(self._pending)


cdef dict _batchers = {}


cpdef FrameBatcher batcher_for(object loop):
    """The one batcher of ``loop`` (every writer on a loop must share it to keep order)."""
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = FrameBatcher(loop)
        _batchers[loop] = batcher
        if len(_batchers) > 64:  # loops of finished tests: forget closed ones
            for old in [k for k in _batchers if k.is_closed()]:
                del _batchers[old]
    return <FrameBatcher>batcher
