cdef struct _Point:
    unsigned long long hash
    Py_ssize_t node


cpdef str server_msg_id(str conversation_id, long long seq, long long send_time_ms)
cpdef unsigned long long shard_key(str key)


cdef class HashRing:
    cdef readonly tuple nodes
    cdef readonly int replicas
    cdef _Point *_points
    cdef Py_ssize_t _count

    cdef Py_ssize_t _index_for(self, unsigned long long h) noexcept
    cpdef str node_for(self, str key)
    cpdef dict nodes_for(self, keys)
