"""/object/*: what the jssdk's ``uploadFile`` calls, and serving what was uploaded.

The flow (``src/utils/upload.ts`` in the client): ``part_size`` -> ``initiate_multipart_upload``
(which answers one signed URL per part, pointing back here) -> a PUT of every part to its URL
-> ``complete_multipart_upload`` (the part MD5s) -> the object's URL, served by ``GET
/object/<key>``. The JSON endpoints need a valid token; a part PUT carries no token, so its URL
is signed instead (HMAC over upload, part and expiry with a key derived from the secret), and
objects are public to whoever has their unguessable URL, as OpenIM's are.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import re
from typing import Any

import orjson
from aiohttp import web

from oimws import metrics
from oimws.admin.endpoint import Access, ApiModule, Call, post
from oimws.admin.replies import INTEGER, STRING, array, obj
from oimws.admin.validation import Integer, Text, TextList, args_error, body
from oimws.context import AppContext
from oimws.objects import (
    ObjectStore,
    PartRejected,
    UploadNotFound,
    UploadPlan,
    key_for,
    new_upload_id,
)
from oimws.protocol.errors import ApiError, ErrCode, no_permission
from oimws.util.clock import now_ms

MAX_PARTS = 10_000
UPLOAD_TTL_MS = 24 * 3600 * 1000
CHUNK_BYTES = 256 * 1024
DEFAULT_CONTENT_TYPE = "application/octet-stream"
CONTENT_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
HEX_MD5 = re.compile(r"[0-9A-Fa-f]{32}")
# Types a browser may show inline; anything else is served as a download.
INLINE_TYPES = ("image/", "audio/", "video/")
PART_ROUTE = "/object/upload/{upload_id}/{part_number}"
OBJECT_ROUTE = "/object/{key:[0-9a-f]{32}/.+}"

_SIGN = obj(url=STRING, query=array(obj(key=STRING, values=array(STRING))),
            header=array(obj(key=STRING, values=array(STRING))),
            parts=array(obj(partNumber=INTEGER, url=STRING)))


class PartSigner:
    """Signs and checks part URLs: only who initiated an upload learns them."""

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"oimws object upload parts",
                             hashlib.sha256).digest()

    def signature(self, upload_id: str, part_number: int, expires: int) -> str:
        message = f"{upload_id}:{part_number}:{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def is_valid(self, upload_id: str, part_number: int, expires: int, signature: str) -> bool:
        expected = self.signature(upload_id, part_number, expires)
        return hmac.compare_digest(expected, signature) and expires * 1000 > now_ms()


def _envelope(status: int, code: int = 0, message: str = "", data: Any = None) -> web.Response:
    return web.Response(status=status, content_type="application/json", body=orjson.dumps(
        {"errCode": code, "errMsg": message, "errDlt": "", "data": data}))


class ObjectApi(ApiModule):
    def __init__(self, ctx: AppContext, objects: ObjectStore) -> None:
        super().__init__(ctx)
        self._objects = objects
        self._signer = PartSigner(ctx.config.secret)

    # the rules ------------------------------------------------------------------------------
    def _check_size(self, size: int) -> None:
        limit = self.ctx.config.upload_max_bytes
        if size > limit:
            raise args_error(f"field 'size': {size} bytes is above the upload limit of "
                             f"{limit} bytes")

    def _part_size(self, size: int) -> int:
        return max(self.ctx.config.upload_part_bytes, -(-size // MAX_PARTS))

    def _content_type(self, declared: str) -> str:
        content_type = (declared or DEFAULT_CONTENT_TYPE).split(";")[0].strip().lower()
        if CONTENT_TYPE.fullmatch(content_type) is None:
            raise args_error(f"field 'contentType': {declared!r} is not a MIME type")
        allowed = self.ctx.config.upload_allowed_types
        if not any(fnmatch.fnmatchcase(content_type, pattern) for pattern in allowed):
            raise args_error(f"field 'contentType': {content_type} may not be uploaded "
                             f"(allowed: {', '.join(allowed)})")
        return content_type

    def _base_url(self, request: web.Request) -> str:
        configured = self.ctx.config.public_api_url
        return configured.rstrip("/") if configured else f"{request.scheme}://{request.host}"

    def _part_url(self, request: web.Request, plan: UploadPlan, number: int) -> str:
        expires = plan.expires_at_ms // 1000
        path = PART_ROUTE.format(upload_id=plan.upload_id, part_number=number)
        signature = self._signer.signature(plan.upload_id, number, expires)
        return f"{self._base_url(request)}{path}?expires={expires}&signature={signature}"

    # the JSON endpoints ---------------------------------------------------------------------
    @post("/object/part_size",
          body(Integer("size", minimum=1, maximum=2**53, required=True, doc="file size")),
          access=Access.USER, summary="The part size to upload a file of this size in",
          reply=obj(size=INTEGER))
    async def part_size(self, call: Call) -> Any:
        self._check_size(call.body["size"])
        return {"size": self._part_size(call.body["size"])}

    @post("/object/initiate_multipart_upload",
          body(Text("hash", max_length=32, required=True,
                    doc="MD5 (hex) of the part MD5s joined by commas"),
               Integer("size", minimum=1, maximum=2**53, required=True),
               Integer("partSize", minimum=0, maximum=2**53, default=0,
                       doc="0: the server's part size"),
               Integer("maxParts", minimum=-1, maximum=MAX_PARTS, default=-1),
               Text("cause", max_length=1024), Text("name", max_length=1024, required=True),
               Text("contentType", max_length=255), Text("urlPrefix", max_length=1024)),
          access=Access.USER, summary="Start an upload: one signed PUT URL per part",
          reply=obj(url=STRING, upload=obj(uploadID=STRING, partSize=INTEGER, sign=_SIGN,
                                           expireTime=INTEGER)))
    async def initiate_multipart_upload(self, call: Call) -> Any:
        fields = call.body
        size = fields["size"]
        self._check_size(size)
        if HEX_MD5.fullmatch(fields["hash"]) is None:
            raise args_error("field 'hash' must be an MD5 in hex (32 digits)")
        part_size = fields["partSize"] or self._part_size(size)
        if -(-size // part_size) > MAX_PARTS:
            raise args_error(f"field 'partSize': {part_size} makes more than {MAX_PARTS} parts")
        upload_id = new_upload_id()
        plan = UploadPlan(upload_id=upload_id, key=key_for(upload_id, fields["name"]),
                          owner_id=call.caller_id, size=size, part_size=part_size,
                          content_type=self._content_type(fields["contentType"]),
                          content_hash=fields["hash"].lower(),
                          expires_at_ms=now_ms() + UPLOAD_TTL_MS)
        await self._objects.sweep_expired(now_ms())
        await self._objects.create_upload(plan)
        parts = [{"partNumber": number, "url": self._part_url(call.request, plan, number),
                  "query": [], "header": []} for number in range(1, plan.part_count + 1)]
        return {
            "url": "",  # non-empty would mean "stored already, no upload needed"
            "upload": {"uploadID": upload_id, "partSize": part_size,
                       "sign": {"url": "", "query": [], "header": [], "parts": parts},
                       "expireTime": plan.expires_at_ms},
        }

    @post("/object/complete_multipart_upload",
          body(Text("uploadID", required=True),
               TextList("parts", max_items=MAX_PARTS, item_max_length=64, required=True,
                        unique=False, doc="the MD5 (hex) of every part, in order"),
               Text("name", max_length=1024), Text("contentType", max_length=255),
               Text("cause", max_length=1024), Text("urlPrefix", max_length=1024)),
          access=Access.USER, summary="Check the parts and publish the object; answers its URL",
          reply=obj(url=STRING))
    async def complete_multipart_upload(self, call: Call) -> Any:
        plan = await self._objects.get_upload(call.body["uploadID"])
        if plan is None:
            raise ApiError(ErrCode.RECORD_NOT_FOUND, "no such upload (completed, expired or "
                                                     "never started)")
        if plan.owner_id != call.caller_id:
            raise no_permission("this upload was started by another user")
        try:
            info = await self._objects.complete_upload(plan, call.body["parts"])
        except UploadNotFound as exc:
            raise ApiError(ErrCode.RECORD_NOT_FOUND, str(exc)) from None
        except PartRejected as exc:
            raise args_error(str(exc)) from None
        metrics.OBJECTS_STORED.inc()
        return {"url": f"{self._base_url(call.request)}/object/{info.key}"}

    # the raw routes -------------------------------------------------------------------------
    def add_raw_routes(self, router: web.UrlDispatcher) -> None:
        router.add_put(PART_ROUTE, self.put_part)
        router.add_get(OBJECT_ROUTE, self.get_object)

    async def put_part(self, request: web.Request) -> web.Response:
        """One part's bytes (answers with HTTP errors: the client checks ``response.ok``)."""
        upload_id = request.match_info["upload_id"]
        try:
            number = int(request.match_info["part_number"])
            expires = int(request.query.get("expires", ""))
        except ValueError:
            return _envelope(400, ErrCode.ARGS, "part number and expires must be integers")
        if not self._signer.is_valid(upload_id, number, expires,
                                     request.query.get("signature", "")):
            return _envelope(403, ErrCode.NO_PERMISSION, "the part URL's signature is wrong "
                                                         "or has expired")
        plan = await self._objects.get_upload(upload_id)
        if plan is None:
            return _envelope(404, ErrCode.RECORD_NOT_FOUND, "no such upload")
        try:
            expected = plan.part_length(number)
            if request.content_length is not None and request.content_length != expected:
                raise PartRejected(f"part {number} must have {expected} bytes, "
                                   f"not {request.content_length}")
            part_hash = await self._objects.write_part(
                plan, number, request.content.iter_chunked(CHUNK_BYTES))
        except PartRejected as exc:
            return _envelope(400, ErrCode.ARGS, str(exc))
        except UploadNotFound as exc:
            return _envelope(404, ErrCode.RECORD_NOT_FOUND, str(exc))
        metrics.UPLOADED_BYTES.inc(expected)
        response = _envelope(200, data={"partNumber": number, "hash": part_hash})
        response.headers["ETag"] = f'"{part_hash}"'
        return response

    async def get_object(self, request: web.Request) -> web.StreamResponse:
        location = await self._objects.locate(request.match_info["key"])
        if location is None:
            return _envelope(404, ErrCode.RECORD_NOT_FOUND, "no such object")
        if location.redirect_url is not None:
            raise web.HTTPFound(location.redirect_url)
        assert location.path is not None
        info = location.info
        headers = {
            "Content-Type": info.content_type,
            # an object never changes: its key is new for every upload
            "Cache-Control": "public, max-age=31536000, immutable",
            # uploaded bytes must never run as this origin's page or script
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        }
        if not info.content_type.startswith(INLINE_TYPES):
            headers["Content-Disposition"] = "attachment"
        return web.FileResponse(location.path, headers=headers)
