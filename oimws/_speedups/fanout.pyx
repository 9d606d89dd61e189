# cython: language_level=3
"""Fan-out: write ONE encoded text frame to many picows transports.

``WSTransport.send`` is a C-level call here (``cimport``), so the per-recipient cost is the
kernel write, not Python dispatch. A recipient whose unsent backlog passes the write-buffer
limit is returned to the caller (who disconnects it) rather than slowing everyone else.
"""

from picows.picows cimport WSMsgType, WSTransport


cpdef list send_to_all(list transports, bytes frame, Py_ssize_t write_buffer_limit):
    cdef list overflowed = None
    cdef WSTransport transport
    cdef Py_ssize_t backlog
    for item in transports:
        transport = <WSTransport?>item  # checked: a wrong object raises, never corrupts
        if transport.is_disconnected or transport.is_close_frame_sent:
            continue
        transport.send(WSMsgType.TEXT, frame)
        backlog = transport.underlying_transport.get_write_buffer_size()
        if backlog > write_buffer_limit:
            if overflowed is None:
                overflowed = []
            overflowed.append(transport)
    return overflowed if overflowed is not None else []
