"""The check's inputs and output on OSS (``oss2``): the profile, the new data's CSV objects, the report."""

from __future__ import annotations

from typing import Any, Protocol

import oss2  # pyright: ignore[reportMissingTypeStubs]


class Bucket(Protocol):
    """The part of ``oss2.Bucket`` the check uses."""

    def get_object(self, key: str) -> Any: ...

    def put_object(self, key: str, data: bytes, headers: dict[str, str] | None = None) -> Any: ...


def read_text(bucket: Bucket, key: str) -> str:
    return bucket.get_object(key).read().decode("utf-8")


def data_keys(bucket: Any, prefix: str, suffix: str = ".csv") -> list[str]:
    """Every object under ``prefix`` ending in ``suffix``, in key order (``oss2.ObjectIterator`` pages the list)."""
    return sorted(item.key for item in oss2.ObjectIterator(bucket, prefix=prefix) if item.key.endswith(suffix))


def write_json(bucket: Bucket, key: str, text: str) -> None:
    bucket.put_object(key, text.encode("utf-8"), headers={"Content-Type": "application/json"})
