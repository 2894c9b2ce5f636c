"""The image's command line on local files: profile the training data, check new data, write the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drift_check.__main__ import NO_DRIFT_EXIT, main


def _csv(path: Path, rows: list[tuple[float, float]]) -> str:
    path.write_text("amount,age\n" + "".join(f"{a},{b}\n" for a, b in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def profile(tmp_path: Path) -> str:
    training = _csv(tmp_path / "train.csv", [(float(x), float(x % 10)) for x in range(100)])
    out = tmp_path / "drift-profile.json"
    assert main(["profile", "--data", training, "--out", str(out), "--bins", "4"]) == 0
    return str(out)


def test_profile_writes_every_column_of_the_training_data(profile: str) -> None:
    saved = json.loads(Path(profile).read_text(encoding="utf-8"))

    assert sorted(saved["features"]) == ["age", "amount"]
    assert saved["features"]["amount"]["edges"] == [24.75, 49.5, 74.25]


def test_check_writes_the_report_and_gates_on_drift(
    profile: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    same = _csv(tmp_path / "same.csv", [(float(x), float(x % 10)) for x in range(100)])
    moved = _csv(tmp_path / "moved.csv", [(10.0 if x < 50 else 90.0, float(x % 10)) for x in range(100)])
    report = tmp_path / "report.json"
    common = ["--profile", profile, "--report", str(report), "--threshold", "0.25", "--fail-without-drift"]

    assert main(["check", "--data", same, *common]) == NO_DRIFT_EXIT
    assert json.loads(report.read_text(encoding="utf-8"))["drift"] is False
    assert main(["check", "--data", moved, *common]) == 0
    written = json.loads(report.read_text(encoding="utf-8"))
    assert (written["drift"], written["feature"], written["unprofiled"]) == (True, "amount", [])
    assert written["score"] == pytest.approx(4.257031786505947, abs=1e-12)
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == written


def test_check_exits_2_with_the_reason_when_a_profiled_feature_is_missing(
    profile: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "new.csv"
    data.write_text("amount\n1\n", encoding="utf-8")
    report = tmp_path / "report.json"

    code = main(["check", "--profile", profile, "--data", str(data), "--report", str(report), "--threshold", "0.25"])

    assert code == 2
    assert not report.exists()
    assert capsys.readouterr().err == (
        "drift_check: file 0: feature(s) age of the profile are not in the data (columns: amount); "
        "a schema change needs a new profile, not a retraining\n"
    )
