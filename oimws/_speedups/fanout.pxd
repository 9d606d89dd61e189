from picows.picows cimport WSTransport


cpdef list send_to_all(list transports, bytes frame, Py_ssize_t write_buffer_limit)
cpdef bytes text_frames(list frames)


cdef class _Pending:
    cdef list frames
    cdef Py_ssize_t limit
    cdef object on_overflow


cdef class FrameBatcher:
    cdef dict _pending
    cdef object _loop
    cdef bint _scheduled
    cdef readonly unsigned long long frames
    cdef readonly unsigned long long writes

    cdef inline bint _usable(self, WSTransport transport) noexcept
    cdef _schedule(self)
    cpdef queue_all(self, list transports, bytes frame, Py_ssize_t limit, object on_overflow)
    cpdef send_now(self, WSTransport transport, bytes frame)
    cpdef flush(self)


cpdef FrameBatcher batcher_for(object loop)
