# cython: language_level=3
"""The jssdk envelope codec.

A request is one JSON object whose ``data`` is a JSON *string* holding the positional
arguments; responses and pushes carry their result the same way. orjson does the parsing and
string escaping; this module validates the envelope without building intermediate Python
objects beyond the one dict orjson returns, and assembles outgoing envelopes from pre-encoded
pieces so a push is encoded once however many sockets it goes to.
"""

import orjson

_loads = orjson.loads
_dumps = orjson.dumps


class EnvelopeError(ValueError):
    """The frame is not a valid request envelope.

    ``func_name``/``operation_id`` are set when they could still be read, so the error can be
    answered on the request's own event; otherwise the answer is a ``Protocol Error``.
    """

    def __init__(self, message, func_name="", operation_id=""):
        super().__init__(message)
        self.func_name = func_name
        self.operation_id = operation_id


class ArgsDecodeError(ValueError):
    """``data`` is not a JSON string holding an array."""


cdef class Request:
    """One decoded request envelope; ``data`` stays undecoded until a schema asks for it."""

    def __cinit__(self, str func_name, str operation_id, str user_id, str data):
        self.func_name = func_name
        self.operation_id = operation_id
        self.user_id = user_id
        self.data = data

    def __repr__(self):
        return (f"Request({self.func_name!r}, operation_id={self.operation_id!r}, "
                f"data={self.data[:80]!r})")


cdef inline str _optional_str(dict envelope, str key, str func_name, str operation_id):
    value = envelope.get(key)
    if value is None:
        return ""
    if type(value) is not str:
        raise EnvelopeError(f"field {key!r} must be a string, got {_type_name(value)}",
                            func_name, operation_id)
    return <str>value


cdef inline str _type_name(object value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


cpdef Request decode_request(object payload):
    """Decode one text frame's payload (bytes, bytearray or memoryview, not copied)."""
    cdef object envelope
    try:
        envelope = _loads(payload)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError(f"frame is not valid JSON: {exc}") from None
    if type(envelope) is not dict:
        raise EnvelopeError(f"frame must be a JSON object, got {_type_name(envelope)}")
    cdef dict fields = <dict>envelope
    func_name = fields.get("reqFuncName")
    if type(func_name) is not str or not func_name:
        raise EnvelopeError("field 'reqFuncName' must be a non-empty string")
    operation_id = fields.get("operationID")
    if operation_id is None:
        operation_id = ""
    elif type(operation_id) is not str:
        raise EnvelopeError("field 'operationID' must be a string", func_name)
    cdef str user_id = _optional_str(fields, "userID", func_name, operation_id)
    cdef str data = _optional_str(fields, "data", func_name, operation_id)
    return Request(func_name, operation_id, user_id, data)


cpdef list decode_args(str data):
    """The positional arguments of a request: ``data`` must hold a JSON array."""
    if not data:
        return []
    try:
        args = _loads(data)
    except orjson.JSONDecodeError as exc:
        raise ArgsDecodeError(f"'data' is not valid JSON: {exc}") from None
    if type(args) is not list:
        raise ArgsDecodeError(f"'data' must hold a JSON array, got {_type_name(args)}")
    return <list>args


cdef bytes _EVENT = b'{"event":'
cdef bytes _ERR_CODE = b',"errCode":'
cdef bytes _ERR_MSG = b',"errMsg":'
cdef bytes _DATA = b',"data":'
cdef bytes _OPERATION_ID = b',"operationID":'
cdef bytes _PUSH_TAIL = b',"operationID":""}'
cdef bytes _EMPTY_STRING = b'""'


cdef inline bytes _data_field(bytes data_json):
    # The client JSON.parses `data`, so the JSON text travels as a JSON string.
    if not data_json:
        return _EMPTY_STRING
    return _dumps(data_json.decode("utf-8"))


cpdef bytes encode_response(str event, long err_code, str err_msg, bytes data_json,
                            str operation_id):
    """Encode a response; ``data_json`` is the result already encoded as JSON (or b"")."""
    return b"".join((
        _EVENT, _dumps(event),
        _ERR_CODE, str(err_code).encode("ascii"),
        _ERR_MSG, _dumps(err_msg),
        _DATA, _data_field(data_json),
        _OPERATION_ID, _dumps(operation_id), b"}",
    ))


cpdef bytes encode_push(str event, bytes data_json):
    """Encode a server push (callback); it carries no operationID of a request."""
    return b"".join((
        _EVENT, _dumps(event),
        _ERR_CODE, b"0", _ERR_MSG, _EMPTY_STRING,
        _DATA, _data_field(data_json),
        _PUSH_TAIL,
    ))
