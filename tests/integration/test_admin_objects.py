"""/object/*: the upload flow the jssdk runs, over plain HTTP, with every refusal."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.integration.test_admin_api import err_code, refusal
from tests.support.server import RunningServer, start_server

PART_BYTES = 1024
MAX_BYTES = 50_000


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def http(method: str, url: str, data: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def objects_server(tmp_path_factory) -> Any:
    env = {"OIMWS_UPLOAD_PART_BYTES": str(PART_BYTES), "OIMWS_UPLOAD_MAX_BYTES": str(MAX_BYTES)}
    with start_server(tmp_path_factory.mktemp("oimws-objects"), env=env) as server:
        server.register("alice", "bob")
        yield server


def initiate(server: RunningServer, token: str, data: bytes, name: str = "alice/photo.png",
             content_type: str = "image/png") -> tuple[dict[str, Any], list[bytes]]:
    part_size = server.call("/object/part_size", {"size": len(data)}, token=token)["size"]
    parts = [data[i:i + part_size] for i in range(0, len(data), part_size)]
    started = server.call("/object/initiate_multipart_upload", {
        "hash": md5(",".join(md5(p) for p in parts).encode()), "size": len(data),
        "partSize": part_size, "maxParts": -1, "cause": "", "name": name,
        "contentType": content_type}, token=token)
    return started, parts


def put_parts(started: dict[str, Any], parts: list[bytes]) -> list[int]:
    signed = started["upload"]["sign"]["parts"]
    assert [s["partNumber"] for s in signed] == list(range(1, len(parts) + 1))
    return [http("PUT", s["url"], part)[0] for s, part in zip(signed, parts, strict=True)]


def complete(server: RunningServer, token: str, started: dict[str, Any],
             parts: list[bytes]) -> str:
    return server.call("/object/complete_multipart_upload", {
        "uploadID": started["upload"]["uploadID"], "parts": [md5(p) for p in parts],
        "name": "", "contentType": "", "cause": ""}, token=token)["url"]


def test_an_upload_in_parts_is_served_back_whole(objects_server: RunningServer):
    server = objects_server
    token = server.user_token("alice")
    data = os.urandom(3 * PART_BYTES + 100)
    started, parts = initiate(server, token, data)
    assert started["url"] == "" and started["upload"]["partSize"] == PART_BYTES
    assert started["upload"]["sign"]["parts"][0]["url"].startswith(server.api_url)
    assert put_parts(started, parts) == [200] * 4
    url = complete(server, token, started, parts)
    assert url.startswith(server.api_url + "/object/") and url.endswith("/photo.png")
    status, headers, body = http("GET", url)
    assert (status, body) == (200, data)
    assert headers["Content-Type"] == "image/png"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "sandbox"
    assert "immutable" in headers["Cache-Control"]
    assert "Content-Disposition" not in headers
    status, _, body = http("GET", url + "?type=image&width=10&height=10")
    assert (status, body) == (200, data)
    status, headers, body = http("GET", url, headers={"Range": "bytes=0-9"})
    assert (status, body) == (206, data[:10])


def test_a_part_answers_its_md5_as_etag(objects_server: RunningServer):
    server = objects_server
    data = os.urandom(10)
    started, _ = initiate(server, server.user_token("alice"), data)
    status, headers, _ = http("PUT", started["upload"]["sign"]["parts"][0]["url"], data)
    assert status == 200 and headers["ETag"] == f'"{md5(data)}"'


def test_documents_are_served_as_downloads(objects_server: RunningServer):
    server = objects_server
    token = server.user_token("bob")
    data = b"%PDF-1.4 not really"
    started, parts = initiate(server, token, data, "bob/report.pdf", "application/pdf")
    put_parts(started, parts)
    _, headers, _ = http("GET", complete(server, token, started, parts))
    assert headers["Content-Disposition"] == "attachment"


def test_initiate_refuses_what_the_server_does_not_take(objects_server: RunningServer):
    server = objects_server
    token = server.user_token("alice")
    assert refusal(server, "/object/part_size", {"size": MAX_BYTES + 1}, token)[0] == 1001
    good = {"hash": "0" * 32, "size": 10, "name": "a.png", "contentType": "image/png"}
    for change, field in [({"size": MAX_BYTES + 1}, "size"), ({"size": 0}, "size"),
                          ({"contentType": "text/html"}, "contentType"),
                          ({"contentType": "no type"}, "contentType"),
                          ({"hash": "xyz"}, "hash"), ({"size": 20_000, "partSize": 1}, "partSize"),
                          ({"name": ""}, "name")]:
        code, message = refusal(server, "/object/initiate_multipart_upload",
                                {**good, **change}, token)
        assert code == 1001 and field in message, (change, message)


def test_part_urls_cannot_be_forged_or_misused(objects_server: RunningServer):
    server = objects_server
    data = os.urandom(2 * PART_BYTES)
    started, parts = initiate(server, server.user_token("alice"), data)
    first, second = (s["url"] for s in started["upload"]["sign"]["parts"])
    assert http("PUT", first.replace("signature=", "signature=0"), parts[0])[0] == 403
    assert http("PUT", first.replace("/1?", "/2?"), parts[1])[0] == 403  # signed for part 1
    expires = first.split("expires=")[1].split("&")[0]
    later = first.replace(f"expires={expires}", f"expires={int(expires) + 1}")
    assert http("PUT", later, parts[0])[0] == 403
    assert http("PUT", first, parts[0] + b"x")[0] == 400
    assert http("PUT", first, parts[0][:-1])[0] == 400
    assert http("PUT", second, parts[1])[0] == 200


def test_complete_checks_owner_hashes_and_state(objects_server: RunningServer):
    server = objects_server
    alice, bob = server.user_token("alice"), server.user_token("bob")
    data = os.urandom(PART_BYTES + 1)
    started, parts = initiate(server, alice, data)
    upload_id = started["upload"]["uploadID"]
    put_parts(started, parts)
    body = {"uploadID": upload_id, "parts": [md5(p) for p in parts]}
    assert err_code(server, "/object/complete_multipart_upload", body, bob) == 1002
    code, message = refusal(server, "/object/complete_multipart_upload",
                            {**body, "parts": [md5(parts[0]), md5(b"other")]}, alice)
    assert code == 1001 and "part 2" in message
    assert err_code(server, "/object/complete_multipart_upload",
                    {**body, "uploadID": "f" * 32}, alice) == 1004
    server.call("/object/complete_multipart_upload", body, token=alice)
    assert err_code(server, "/object/complete_multipart_upload", body, alice) == 1004
    assert http("PUT", started["upload"]["sign"]["parts"][0]["url"], parts[0])[0] == 404


@pytest.mark.parametrize("path", [
    "/object/../../../etc/passwd",
    "/object/..%2F..%2F..%2Fetc%2Fpasswd",
    "/object/0123456789abcdef0123456789abcdef/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/object/0123456789abcdef0123456789abcdef/photo.png",
    "/object/meta/x.json",
])
def test_unknown_and_escaping_object_paths_find_nothing(objects_server: RunningServer, path):
    status, _, body = http("GET", objects_server.api_url + path)
    assert status == 404 and b"root:" not in body


def test_browsers_may_upload_cross_origin(objects_server: RunningServer):
    status, headers, _ = http("OPTIONS", objects_server.api_url + "/object/part_size", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "token, operationid, content-type"})
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "token" in headers["Access-Control-Allow-Headers"]
    assert "PUT" in headers["Access-Control-Allow-Methods"]
