# cython: language_level=3
"""Server message IDs, shard keys and the consistent-hash ring, all from xxhash (xxh3).

A server message ID must be unique and stable for (conversation, seq); it is derived from
them, so a retried store of the same message yields the same ID on any node.

``HashRing`` places keys (user IDs) on nodes ketama-style: every node owns ``replicas``
points on a 64-bit circle (``xxh3_64("<node>#<i>")``) and a key belongs to the first point at
or after its own hash, wrapping around. Adding a node to N moves about 1/(N+1) of the keys,
all of them to the new node. The points live in one sorted C array; a lookup is one xxh3 of
the key and a binary search, no Python objects on the way.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdlib cimport qsort

from xxhash import xxh3_64_intdigest, xxh3_128_hexdigest


cpdef str server_msg_id(str conversation_id, long long seq, long long send_time_ms):
    return xxh3_128_hexdigest(f"{conversation_id}:{seq}:{send_time_ms}".encode("utf-8"))


cpdef unsigned long long shard_key(str key):
    return xxh3_64_intdigest(key.encode("utf-8"))


cdef int _compare_points(const void *a, const void *b) noexcept nogil:
    cdef const _Point *x = <const _Point *>a
    cdef const _Point *y = <const _Point *>b
    if x.hash < y.hash:
        return -1
    if x.hash > y.hash:
        return 1
    # equal hashes (astronomically rare): order by node so every process agrees
    return (x.node > y.node) - (x.node < y.node)


cdef class HashRing:
    """``HashRing(nodes, replicas=160)``; ``node_for(key)`` is the node that owns ``key``."""

    def __cinit__(self, nodes, int replicas=160):
        self._points = NULL
        self._count = 0

    def __init__(self, nodes, int replicas=160):
        cdef list names = sorted(set(nodes))
        if not names:
            raise ValueError("a hash ring needs at least one node")
        if replicas < 1:
            raise ValueError("replicas must be at least 1")
        for name in names:
            if type(name) is not str:
                raise TypeError(f"node names must be strings, got {type(name).__name__}")
        self.nodes = tuple(names)
        self.replicas = replicas
        cdef Py_ssize_t count = len(names) * replicas
        self._points = <_Point *>PyMem_Malloc(count * sizeof(_Point))
        if self._points == NULL:
            raise MemoryError()
        cdef Py_ssize_t node_index, i, k = 0
        for node_index in range(len(names)):
            prefix = names[node_index] + "#"
            for i in range(replicas):
                self._points[k].hash = xxh3_64_intdigest(f"{prefix}{i}".encode("utf-8"))
                self._points[k].node = node_index
                k += 1
        qsort(self._points, count, sizeof(_Point), _compare_points)
        self._count = count

    def __dealloc__(self):
        PyMem_Free(self._points)

    cdef Py_ssize_t _index_for(self, unsigned long long h) noexcept:
        # the first point whose hash is >= h; past the last one wraps to the first
        cdef Py_ssize_t lo = 0, hi = self._count, mid
        while lo < hi:
            mid = (lo + hi) >> 1
            if self._points[mid].hash < h:
                lo = mid + 1
            else:
                hi = mid
        if lo == self._count:
            lo = 0
        return self._points[lo].node

    cpdef str node_for(self, str key):
        return self.nodes[self._index_for(xxh3_64_intdigest(key.encode("utf-8")))]

    cpdef dict nodes_for(self, keys):
        """node -> the keys it owns, for a batch of keys (one pass, one dict)."""
        cdef dict placed = {}
        cdef str node
        for key in keys:
            node = self.nodes[self._index_for(xxh3_64_intdigest((<str?>key).encode("utf-8")))]
            bucket = placed.get(node)
            if bucket is None:
                placed[node] = [key]
            else:
                (<list>bucket).append(key)
        return placed

    def __len__(self):
        return len(self.nodes)

    def __repr__(self):
        return f"HashRing({list(self.nodes)!r}, replicas={self.replicas})"
