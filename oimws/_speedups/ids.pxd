cpdef str server_msg_id(str conversation_id, long long seq, long long send_time_ms)
cpdef unsigned long long shard_key(str key)
