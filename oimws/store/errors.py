"""What a store raises."""


class StoreError(Exception):
    """The store could not do what was asked (I/O failure, constraint, closed)."""


class DuplicateKeyError(StoreError):
    """A record with that key exists already; nothing was changed."""


class DuplicateClientMsgIDError(DuplicateKeyError):
    """The clientMsgID belongs to another sender's or another conversation's message."""
