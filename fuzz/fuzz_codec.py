#!/usr/bin/env python3
"""Coverage-guided fuzzing (atheris, libFuzzer) of the jssdk envelope codec.

One input is the payload of one incoming text frame, taken through what the server does with
it (``Dispatcher.handle_payload``), minus the handlers:

1. the envelope decoded (``JsonEnvelopeCodec.decode_request``);
2. the named function's arguments decoded (``decode_args``, then ``decode_positional`` with
   the function's declared schema); a name that is not registered picks a schema by a hash
   of the name, so mutated names still reach every function's schema;
3. the answer encoded and parsed back with the standard library's JSON parser: the error the
   dispatcher would answer, and a response and a push carrying the arguments as their result
   (handlers embed arguments in answers: a quoted message, an entity list); every field must
   come back as it went in.

The invariant: decoding raises only ``EnvelopeError``, ``ArgsDecodeError`` and ``ApiError``
(what ``tests/robustness/test_fuzz_functions.py::
test_envelope_decoding_never_raises_anything_else`` accepts); arguments the schema accepted
nest at most ``MAX_NESTING`` levels and always encode; encoding never raises (one documented
exception: ORJSON_MAX_ENCODE_DEPTH below) and round-trips. Anything else escapes
``test_one_input``: atheris prints the traceback, writes the input to ``crash-<sha1>`` and
exits 77. A hang is caught by libFuzzer's ``-timeout=`` (seconds per input).

Coverage: the envelope codec itself is compiled Cython (``oimws/_speedups/codec.pyx``) and
orjson is Rust; neither is built with libFuzzer's coverage instrumentation, so their branches
are invisible to the fuzzer. Guidance comes from the Python layers, which atheris instruments
as they are imported: ``oimws.protocol`` (``codec.py``, ``args.py``, ``errors.py``) and this
file, whose branches follow the codec's outcomes (which error, which schema), plus atheris'
tracing of comparisons in that code.

Run (libFuzzer flags; new inputs are written into the first corpus directory)::

    .venv/bin/python fuzz/fuzz_codec.py -max_total_time=600 fuzz/corpus/codec
    make fuzz FUZZ_SECONDS=600     # the same, new inputs kept under run/fuzz/, not the seeds

``OIMWS_FUZZ_PLANTED_BUG=missing-argument`` is a test-only mode that plants a decoder bug (a
required argument read without checking that the request has that many), so a test can prove
the target turns an unexpected exception into a crash report
(tests/robustness/test_fuzz_atheris.py).
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from typing import Any

import atheris

with atheris.instrument_imports(include=["oimws.protocol"]):
    import orjson

    from oimws.protocol import events
    from oimws.protocol.args import MAX_NESTING, decode_positional
    from oimws.protocol.codec import ArgsDecodeError, EnvelopeError, JsonEnvelopeCodec
    from oimws.protocol.errors import ApiError, ErrCode

# The registry imports every handler module: not instrumented, it is only looked up here.
from oimws.dispatch import FunctionSpec, registered_functions

PLANTED_BUG = os.environ.get("OIMWS_FUZZ_PLANTED_BUG", "")

# orjson decodes up to 1024 levels of nesting but encodes at most 254, so the raw argument
# array can be deeper than an encodable value: encoding it raises orjson.JSONEncodeError
# ("Recursion limit reached"). That is accepted for the raw array only; what the schema lets
# through nests at most MAX_NESTING (32) levels and must always encode (a handler that
# embedded a deeper argument in its answer once left the request unanswered).
ORJSON_MAX_ENCODE_DEPTH = 254

CODEC = JsonEnvelopeCodec()
FUNCTIONS: list[FunctionSpec] = list(registered_functions())
FUNCTION_BY_NAME = {spec.name: spec for spec in FUNCTIONS}


@atheris.instrument_func
def spec_for(func_name: str) -> FunctionSpec:
    """The function the server would run, or for an unknown name one picked by its hash."""
    spec = FUNCTION_BY_NAME.get(func_name)
    if spec is not None:
        return spec
    # surrogatepass: whatever the decoder lets through, the harness itself must not raise
    return FUNCTIONS[zlib.crc32(func_name.encode("utf-8", "surrogatepass")) % len(FUNCTIONS)]


def nesting_depth(value: Any) -> int:
    """How many containers deep ``value`` goes (iterative: inputs nest up to 1024 levels,
    beyond Python's recursion limit)."""
    deepest = 0
    todo = [(value, 1)]
    while todo:
        current, depth = todo.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        deepest = max(deepest, depth)
        todo.extend((child, depth + 1) for child in children)
    return deepest


@atheris.instrument_func
def check_round_trip(frame: bytes, event: str, code: int, message: str, result: Any,
                     operation_id: str) -> None:
    """The frame is JSON the client can parse, and every field comes back as it went in."""
    answer = json.loads(frame)
    assert set(answer) == {"event", "errCode", "errMsg", "data", "operationID"}, answer
    assert answer["event"] == event, (answer["event"], event)
    assert answer["errCode"] == code, (answer["errCode"], code)
    assert answer["errMsg"] == message, (answer["errMsg"], message)
    assert answer["operationID"] == operation_id, (answer["operationID"], operation_id)
    data = answer["data"]
    assert isinstance(data, str), data
    if result is None:
        assert data == "", data
    else:
        # the client JSON.parses `data` again (double encoding)
        assert json.loads(data) == result, (data[:200], result)


@atheris.instrument_func
def check_answer(event: str, code: int, message: str, operation_id: str,
                 result: Any = None, *, may_be_too_deep: bool = False) -> None:
    """Encode the answer the dispatcher would send, as a response and as a push."""
    try:
        response = CODEC.encode_response(event, code, message, result, operation_id)
        push = CODEC.encode_push(event, result)
    except orjson.JSONEncodeError:
        if not may_be_too_deep:
            raise
        assert nesting_depth(result) > ORJSON_MAX_ENCODE_DEPTH, "refused an encodable result"
        return
    check_round_trip(response, event, code, message, result, operation_id)
    check_round_trip(push, event, 0, "", result, "")


@atheris.instrument_func
def test_one_input(payload: bytes) -> None:
    try:
        request = CODEC.decode_request(payload)
    except EnvelopeError as exc:
        # Dispatcher.handle_payload: on the request's own event when its name could be read
        if exc.func_name:
            check_answer(exc.func_name, ErrCode.SDK_ARGS, str(exc), exc.operation_id)
        else:
            check_answer(events.PROTOCOL_ERROR, ErrCode.PROTOCOL, str(exc), "")
        return
    assert isinstance(request.func_name, str) and request.func_name, request
    assert isinstance(request.operation_id, str) and isinstance(request.user_id, str)
    assert isinstance(request.data, str), request
    if request.func_name not in FUNCTION_BY_NAME:
        check_answer(request.func_name, ErrCode.NOT_SUPPORT_OPT,
                     f"unknown function {request.func_name!r}", request.operation_id)
    spec = spec_for(request.func_name)
    try:
        values = CODEC.decode_args(request)
    except ArgsDecodeError as exc:
        check_answer(request.func_name, ErrCode.SDK_ARGS, str(exc), request.operation_id)
        return
    assert isinstance(values, list), values
    # the raw array, before the schema converts anything in place (JsonArray items)
    check_answer(request.func_name, 0, "", request.operation_id, values, may_be_too_deep=True)
    try:
        decoded = decode_positional(spec.args, values)
    except ApiError as exc:
        check_answer(request.func_name, int(exc.code),
                     f"{request.func_name}: {exc.message}", request.operation_id)
        return
    assert len(decoded) == len(spec.args), (spec.name, decoded)
    for position, argument in enumerate(decoded):
        assert nesting_depth(argument) <= MAX_NESTING, (spec.name, position)
    check_answer(request.func_name, 0, "", request.operation_id, decoded)


def plant_bug(kind: str) -> None:
    """Test-only: swap in an argument decoder that raises something undocumented."""
    global decode_positional
    if kind != "missing-argument":
        raise SystemExit(f"unknown OIMWS_FUZZ_PLANTED_BUG {kind!r} (known: missing-argument)")
    checked_decode = decode_positional

    def decode_positional_trusting_the_count(schema: Any, values: list[Any]) -> list[Any]:
        for position, arg in enumerate(schema):
            if arg.required:
                values[position]  # the planted bug: IndexError when one is missing
        return checked_decode(schema, values)

    decode_positional = atheris.instrument_func(decode_positional_trusting_the_count)


def main() -> None:
    if PLANTED_BUG:
        plant_bug(PLANTED_BUG)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
