# cython: language_level=3
"""Server message IDs and shard keys, both from xxhash (xxh3, 64/128 bit).

A server message ID must be unique and stable for (conversation, seq); it is derived from
them, so a retried store of the same message yields the same ID on any node.
"""

from xxhash import xxh3_64_intdigest, xxh3_128_hexdigest


cpdef str server_msg_id(str conversation_id, long long seq, long long send_time_ms):
    return xxh3_128_hexdigest(f"{conversation_id}:{seq}:{send_time_ms}".encode("utf-8"))


cpdef unsigned long long shard_key(str key):
    return xxh3_64_intdigest(key.encode("utf-8"))
