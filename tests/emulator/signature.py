"""Optional check of the ACS3-HMAC-SHA256 signature the Alibaba SDKs put on every OpenAPI request.

Off by default (any credentials are accepted). Armed through ``POST /_emulator/credentials``, it proves that the
access key a provider got from ``configure()`` is the one that signed its requests: a wrong key id answers
``InvalidAccessKeyId.NotFound``, a wrong secret ``SignatureDoesNotMatch``, as the real gateway does.
Algorithm: alibabacloud_tea_openapi ``utils.get_authorization`` (see shared/reference/eas-api.md §1.2).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import parse_qsl, quote, urlsplit

from werkzeug.wrappers import Request

from tests.emulator.core import ApiError

_AUTHORIZATION = re.compile(
    r"ACS3-HMAC-SHA256 Credential=(?P<key>[^,]+),SignedHeaders=(?P<headers>[^,]+),Signature=(?P<signature>[0-9a-f]+)"
)


def _encode(value: str) -> str:
    return quote(value, safe="~")


def verify_acs3(request: Request, access_key_id: str, access_key_secret: str) -> None:
    """Raise the gateway's error unless ``request`` is signed with exactly these credentials."""
    match = _AUTHORIZATION.fullmatch(request.headers.get("Authorization", ""))
    if match is None:
        raise ApiError(400, "MissingAuthorization", "The request is not signed with ACS3-HMAC-SHA256.")
    if match["key"] != access_key_id:
        raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path
    parts = urlsplit(raw_uri)
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    canonical_query = "&".join(f"{_encode(key)}={_encode(value)}" for key, value in query)
    signed = match["headers"].split(";")
    canonical_headers = "".join(f"{name}:{request.headers.get(name, '').strip()}\n" for name in signed)
    body_hash = request.headers.get("x-acs-content-sha256", "")
    if body_hash != hashlib.sha256(request.get_data(cache=True)).hexdigest():
        raise ApiError(400, "SignatureDoesNotMatch", "x-acs-content-sha256 does not match the body.")
    canonical = "\n".join([request.method, parts.path, canonical_query, canonical_headers, match["headers"], body_hash])
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    expected = hmac.new(access_key_secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match["signature"]):
        raise ApiError(400, "SignatureDoesNotMatch", "The request signature does not conform to Aliyun standards.")
