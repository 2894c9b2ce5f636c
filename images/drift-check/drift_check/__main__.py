"""The image's command line.

    python -m drift_check profile --data train.csv [--data more.csv] --out drift-profile.json [--bins 10]
    python -m drift_check check --profile drift-profile.json --data new.csv --report report.json \
        --method psi --threshold 0.25 [--fail-without-drift]

Paths are local files, or ``oss://<bucket>/<key>`` (a ``--data`` ending in ``/`` means every ``.csv`` under that
prefix) read and written with the credentials in ``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``_SECRET`` (and
``ALIBABA_CLOUD_SECURITY_TOKEN`` for STS) against ``OSS_ENDPOINT``. ``check`` prints the report and exits 0; with
``--fail-without-drift`` it exits 3 when the data has not drifted, so it can gate a following step.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

from drift_check import store
from drift_check.check import METHODS, DriftError, compare, read_columns
from drift_check.profile import ProfileError, build_profile, dumps, load_profile

NO_DRIFT_EXIT = 3


def _bucket(name: str) -> Any:
    import oss2  # pyright: ignore[reportMissingTypeStubs]

    key_id, secret = os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"], os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]
    token = os.environ.get("ALIBABA_CLOUD_SECURITY_TOKEN")
    auth = oss2.StsAuth(key_id, secret, token) if token else oss2.Auth(key_id, secret)
    return oss2.Bucket(auth, os.environ["OSS_ENDPOINT"], name)


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("oss://").partition("/")
    return bucket, key


def _read(path: str) -> list[str]:
    if not path.startswith("oss://"):
        return [Path(path).read_text(encoding="utf-8")]
    name, key = _split(path)
    bucket = _bucket(name)
    keys = store.data_keys(bucket, key) if key.endswith("/") else [key]
    return [store.read_text(bucket, item) for item in keys]


def _write(path: str, text: str) -> None:
    if path.startswith("oss://"):
        name, key = _split(path)
        store.write_json(_bucket(name), key, text)
    else:
        Path(path).write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="drift_check")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("profile", help="profile the training data")
    make.add_argument("--data", action="append", required=True)
    make.add_argument("--out", required=True)
    make.add_argument("--bins", type=int, default=10)
    make.add_argument("--features", help="comma-separated columns (default: every column of the first file)")
    run = commands.add_parser("check", help="compare new data with a profile")
    run.add_argument("--profile", required=True)
    run.add_argument("--data", action="append", required=True)
    run.add_argument("--report", required=True)
    run.add_argument("--method", choices=METHODS, default="psi")
    run.add_argument("--threshold", type=float, required=True)
    run.add_argument("--fail-without-drift", action="store_true")
    args = parser.parse_args(argv)
    try:
        texts = [text for path in args.data for text in _read(path)]
        if args.command == "profile":
            header = next(csv.reader(io.StringIO(texts[0])), []) if texts else []
            names = args.features.split(",") if args.features else [name.strip() for name in header if name.strip()]
            columns, _ = read_columns(texts, names)
            _write(args.out, dumps(build_profile(columns, bins=args.bins)))
            return 0
        profile = load_profile(_read(args.profile)[0])
        columns, extra = read_columns(texts, list(profile))
        report = {**compare(profile, columns, method=args.method, threshold=args.threshold), "unprofiled": extra}
    except (DriftError, ProfileError) as error:
        print(f"drift_check: {error}", file=sys.stderr)
        return 2
    text = json.dumps(report, sort_keys=True)
    _write(args.report, text)
    print(text)
    return NO_DRIFT_EXIT if args.fail_without_drift and not report["drift"] else 0


if __name__ == "__main__":
    sys.exit(main())
