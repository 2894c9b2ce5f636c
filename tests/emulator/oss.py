"""OSS, path style as oss2 sends it to an IP endpoint: buckets, objects, ListObjects v1/v2, XML answers and errors.

Facts: shared/reference/dlc-dsw-oss-api.md §4 (``.000Z`` timestamps, ``x-oss-request-id`` on every answer, no CRC
header, HEAD errors carried base64-encoded in ``x-oss-err``, ``<Error>`` without a namespace).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from urllib.parse import quote
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

from tests.emulator.core import ApiError, request_id


@dataclass
class StoredObject:
    data: bytes
    content_type: str
    modified: float
    meta: dict[str, str]

    @property
    def etag(self) -> str:
        return f'"{hashlib.md5(self.data).hexdigest().upper()}"'  # OSS ETags are MD5 (not a security use)


def _list_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def error_response(error: ApiError, rid: str, head: bool = False) -> Response:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
        f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
        f"<RequestId>{rid}</RequestId><HostId>127.0.0.1</HostId></Error>"
    )
    headers = {"x-oss-request-id": rid, **error.headers}
    if head:  # HEAD answers carry no body; OSS puts the error document in a header instead
        headers["x-oss-err"] = base64.b64encode(xml.encode()).decode()
        return Response(b"", error.status, headers=headers, content_type="application/xml")
    return Response(xml, error.status, headers=headers, content_type="application/xml")


# (request, operation, bucket, key, now): raises the OSS error when the request's credentials may not do it.
Authorize = Callable[[Request, str, str, str, float], None]


def _anyone(request: Request, operation: str, bucket: str, key: str, now: float) -> None:
    return None


class OssApi:
    """Buckets and objects. ``authorize`` judges each request first (tests/emulator/sts.py: STS sessions are held
    to their role's policies; long-term keys pass)."""

    def __init__(self, authorize: Authorize = _anyone) -> None:
        self.buckets: dict[str, dict[str, StoredObject]] = {}
        self._authorize = authorize

    def reset(self) -> None:
        self.__init__(self._authorize)

    def create_bucket(self, name: str) -> None:
        self.buckets.setdefault(name, {})

    def __call__(self, request: Request, now: float) -> Response:
        bucket_name, _, key = request.path.lstrip("/").partition("/")
        rid = request_id()
        if not bucket_name:
            raise ApiError(400, "InvalidRequest", "ListBuckets is not emulated; address a bucket.")
        from tests.emulator.app import oss_action

        self._authorize(request, oss_action(request), bucket_name, key, now)
        if request.method == "PUT" and not key:
            self.create_bucket(bucket_name)
            return Response(b"", 200, headers={"x-oss-request-id": rid, "Location": f"/{bucket_name}"})
        bucket = self.buckets.get(bucket_name)
        if bucket is None:
            raise ApiError(404, "NoSuchBucket", "The specified bucket does not exist.")
        if not key:
            if request.method == "GET":
                return self._list(bucket_name, bucket, request, rid)
            raise ApiError(405, "MethodNotAllowed", f"{request.method} on a bucket is not emulated.")
        if request.method == "PUT":
            meta = {k.lower(): v for k, v in request.headers.items() if k.lower().startswith("x-oss-meta-")}
            stored = StoredObject(request.get_data(), request.content_type or "application/octet-stream", now, meta)
            bucket[key] = stored
            return Response(b"", 200, headers={"x-oss-request-id": rid, "ETag": stored.etag})
        if request.method == "DELETE":
            bucket.pop(key, None)  # OSS answers 204 whether or not the object existed
            return Response(b"", 204, headers={"x-oss-request-id": rid})
        stored_object = bucket.get(key)
        if stored_object is None:
            raise ApiError(404, "NoSuchKey", "The specified key does not exist.")
        headers = {
            "x-oss-request-id": rid,
            "ETag": stored_object.etag,
            "Last-Modified": formatdate(stored_object.modified, usegmt=True),
            "x-oss-object-type": "Normal",
            **stored_object.meta,
        }
        if request.method == "HEAD":
            response = Response(b"", 200, headers=headers, content_type=stored_object.content_type)
            response.headers["Content-Length"] = str(len(stored_object.data))
            response.automatically_set_content_length = False
            return response
        if request.method == "GET":
            return Response(stored_object.data, 200, headers=headers, content_type=stored_object.content_type)
        raise ApiError(405, "MethodNotAllowed", f"{request.method} on an object is not emulated.")

    def _list(self, name: str, bucket: dict[str, StoredObject], request: Request, rid: str) -> Response:
        args = request.args
        v2 = args.get("list-type") == "2"
        prefix, delimiter = args.get("prefix", ""), args.get("delimiter", "")
        max_keys = int(args.get("max-keys") or 100)
        after = (args.get("continuation-token") or args.get("start-after") or "") if v2 else args.get("marker", "")
        url = args.get("encoding-type") == "url"

        def enc(value: str) -> str:
            return quote(value, safe="/") if url else escape(value)

        entries: list[tuple[str, StoredObject | None]] = []  # (key or common prefix, object or None)
        seen_prefixes: set[str] = set()
        for key in sorted(bucket):
            if not key.startswith(prefix) or key <= after:
                continue
            rest = key[len(prefix) :]
            if delimiter and delimiter in rest:
                common = prefix + rest.split(delimiter, 1)[0] + delimiter
                if common not in seen_prefixes and common > after:
                    seen_prefixes.add(common)
                    entries.append((common, None))
                continue
            entries.append((key, bucket[key]))
        truncated = len(entries) > max_keys
        page = entries[:max_keys]
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult>',
            f"<Name>{escape(name)}</Name><Prefix>{enc(prefix)}</Prefix><MaxKeys>{max_keys}</MaxKeys>",
            f"<Delimiter>{enc(delimiter)}</Delimiter><IsTruncated>{'true' if truncated else 'false'}</IsTruncated>",
        ]
        if url:
            parts.append("<EncodingType>url</EncodingType>")
        if v2:
            parts.append(f"<KeyCount>{len(page)}</KeyCount>")
        if truncated:
            last = page[-1][0]
            parts.append(
                f"<NextContinuationToken>{enc(last)}</NextContinuationToken>"
                if v2
                else f"<NextMarker>{enc(last)}</NextMarker>"
            )
        for key, stored in page:
            if stored is None:
                parts.append(f"<CommonPrefixes><Prefix>{enc(key)}</Prefix></CommonPrefixes>")
            else:
                parts.append(
                    f"<Contents><Key>{enc(key)}</Key><LastModified>{_list_time(stored.modified)}</LastModified>"
                    f"<ETag>{stored.etag}</ETag><Type>Normal</Type><Size>{len(stored.data)}</Size>"
                    "<StorageClass>Standard</StorageClass></Contents>"
                )
        parts.append("</ListBucketResult>")
        return Response("".join(parts), 200, headers={"x-oss-request-id": rid}, content_type="application/xml")
