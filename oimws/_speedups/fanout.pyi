from picows import WSTransport

def send_to_all(
    transports: list[WSTransport], frame: bytes, write_buffer_limit: int
) -> list[WSTransport]: ...
