"""The jssdk wire protocol: envelopes, event names, error codes, argument decoding.

Sans-I/O: nothing here touches sockets or storage.
"""
