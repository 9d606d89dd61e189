"""The OpenAPI document of the admin API, built from the endpoint declarations themselves
(paths, access, body schemas, replies), so it cannot drift from what the server does.

``GET /openapi.json`` serves it; the copy in the repository is ``docs/openapi.json``, written
by ``oimws openapi > docs/openapi.json`` (a test checks it is current).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from oimws import __version__
from oimws.admin.endpoint import Access, Endpoint
from oimws.admin.replies import INTEGER, STRING, obj

ENVELOPE = obj(errCode={**INTEGER, "description": "0 on success, else OpenIM's code (1001: "
                                                  "a body field is wrong, named in errMsg)"},
               errMsg=STRING, errDlt=STRING, data={"description": "the endpoint's answer"})
ACCESS_TEXT = {
    Access.PUBLIC: "No token needed.",
    Access.USER: "Header `token`: any valid user or admin token.",
    Access.ADMIN: "Header `token`: an admin token (`/auth/get_admin_token`).",
}

# The routes outside OpenIM's JSON envelope, described by hand (a test checks that every
# route the server has is documented).
RAW_ROUTES: dict[str, dict[str, Any]] = {
    "/healthz": {"get": {
        "tags": ["operations"], "summary": "Alive: version, uptime, connections, online users",
        "responses": {"200": {"description": "alive", "content": {"application/json": {
            "schema": obj(status=STRING, version=STRING, uptimeSeconds={"type": "number"},
                          connections=INTEGER, onlineUsers=INTEGER)}}}}}},
    "/readyz": {"get": {
        "tags": ["operations"],
        "summary": "Ready: the store is writable (and the bus connected, in cluster mode)",
        "responses": {
            "200": {"description": "ready", "content": {"application/json": {
                "schema": obj(status=STRING, checks={"type": "object"})}}},
            "503": {"description": "not ready; checks says what failed"}}}},
    "/metrics": {"get": {
        "tags": ["operations"], "summary": "Prometheus metrics (text exposition format)",
        "responses": {"200": {"description": "metrics",
                              "content": {"text/plain": {"schema": STRING}}}}}},
    "/openapi.json": {"get": {
        "tags": ["operations"], "summary": "This document",
        "responses": {"200": {"description": "the OpenAPI document"}}}},
    "/object/upload/{upload_id}/{part_number}": {"put": {
        "tags": ["object"],
        "summary": "One part's bytes, at the signed URL initiate_multipart_upload handed out",
        "parameters": [
            {"name": "upload_id", "in": "path", "required": True, "schema": STRING},
            {"name": "part_number", "in": "path", "required": True, "schema": INTEGER},
            {"name": "expires", "in": "query", "required": True, "schema": INTEGER},
            {"name": "signature", "in": "query", "required": True, "schema": STRING}],
        "requestBody": {"required": True, "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary"}}}},
        "responses": {
            "200": {"description": "stored; the ETag header is the part's MD5"},
            "400": {"description": "wrong part number or size"},
            "403": {"description": "wrong or expired signature"},
            "404": {"description": "no such upload"}}}},
    "/object/{key}": {"get": {
        "tags": ["object"], "summary": "An uploaded object (the URL complete answered)",
        "parameters": [{"name": "key", "in": "path", "required": True, "schema": STRING,
                        "description": "<32 hex digits>/<file name>"}],
        "responses": {"200": {"description": "the bytes, with their content type"},
                      "404": {"description": "no such object"}}}},
}


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    tag = endpoint.path.strip("/").split("/")[0]
    data = endpoint.reply if endpoint.reply is not None else {"nullable": True}
    operation: dict[str, Any] = {
        "tags": [tag],
        "operationId": endpoint.path.strip("/").replace("/", "_"),
        "summary": endpoint.summary,
        "description": ACCESS_TEXT[endpoint.access],
        "parameters": [{"$ref": "#/components/parameters/operationID"}],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": endpoint.body.schema()}}},
        "responses": {"200": {
            "description": "OpenIM's envelope (HTTP 200 also for refusals)",
            "content": {"application/json": {"schema": {"allOf": [
                {"$ref": "#/components/schemas/Envelope"},
                obj(data=data)]}}}}},
    }
    operation["security"] = [] if endpoint.access == Access.PUBLIC else [{"token": []}]
    return operation


def build_document(endpoints: Iterable[Endpoint]) -> dict[str, Any]:
    paths: dict[str, Any] = {e.path: {"post": _operation(e)} for e in endpoints}
    paths.update(RAW_ROUTES)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "oimws admin API",
            "version": __version__,
            "description": "OpenIM's REST API shapes: POST with a JSON body, an `operationID` "
                           "header, an admin `token` header where needed; every reply is "
                           "`{errCode, errMsg, errDlt, data}`.",
        },
        "components": {
            "securitySchemes": {"token": {"type": "apiKey", "in": "header", "name": "token"}},
            "parameters": {"operationID": {
                "name": "operationID", "in": "header", "required": False, "schema": STRING,
                "description": "ties the request's log lines together"}},
            "schemas": {"Envelope": ENVELOPE},
        },
        "paths": dict(sorted(paths.items())),
    }


def render(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"

