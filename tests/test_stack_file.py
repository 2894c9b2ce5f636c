"""Every malformed stack file is one message naming the file, the line and the fix, through the plan's entry point.

Each case is a file a newcomer writes by accident; before ``tools/stack_file.py`` several of them crashed the plan
with a traceback (a list, ``config:`` as a list, bytes that are not UTF-8) or were silently misread (duplicate
keys, a second ``config:``, unquoted dates, ``.inf``/``.nan``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.program_copy import project_copy
from tools import plan

CASES: list[tuple[str, bytes, str]] = [
    (
        "a-list",
        b"- config\n- pai-mlops:owner: x\n",
        "Pulumi.broken.yaml line 1: the file must be a mapping with a 'config:' key, got a list. Write:\n"
        "config:\n  pai-mlops:environment: dev",
    ),
    (
        "a-scalar",
        b"pai-mlops:owner=ml-platform\n",
        "Pulumi.broken.yaml line 1: the file must be a mapping with a 'config:' key, got a single text value. "
        "Write:\nconfig:\n  pai-mlops:environment: dev",
    ),
    (
        "config-as-a-list",
        b"# a comment\nconfig:\n  - pai-mlops:owner: x\n",
        "Pulumi.broken.yaml line 2: 'config' must be a mapping of keys to values, got a list. Write each setting "
        "as 'key: value' under 'config:', without a leading '-'",
    ),
    (
        "not-utf-8",
        b"config:\n  pai-mlops:owner: caf\xe9\n",
        "Pulumi.broken.yaml line 2: byte 0xe9 is not UTF-8. Save the file as UTF-8 (in most editors: 'Save with "
        "encoding' → UTF-8), or replace the character",
    ),
    (
        "unquoted-date",
        b"config:\n  pai-mlops:owner: team\n  pai-mlops:costCenter: 2026-01-01\n",
        "Pulumi.broken.yaml line 3: '2026-01-01' is read as a date, not as text. Quote it: '2026-01-01'",
    ),
    (
        "infinity",
        b"config:\n  pai-mlops:owner: .inf\n",
        "Pulumi.broken.yaml line 2: '.inf' is read as a non-finite number, which no config key takes. Write a "
        "finite number, or quote it ('.inf') if you mean the text",
    ),
    (
        "nan-nested",
        b"config:\n  pai-mlops:serving:\n    services:\n      - name: a\n        maxErrorRate: .NaN\n",
        "Pulumi.broken.yaml line 5: '.NaN' is read as a non-finite number, which no config key takes. Write a "
        "finite number, or quote it ('.NaN') if you mean the text",
    ),
    (
        "duplicate-key",
        b"config:\n  pai-mlops:owner: a\n  pai-mlops:owner: b\n",
        "Pulumi.broken.yaml line 3: the key 'pai-mlops:owner' appears twice (first on line 2); YAML keeps only the "
        "last one, so the first is silently lost. Merge the two into one",
    ),
    (
        "second-config",
        b"config:\n  pai-mlops:owner: a\nconfig:\n  pai-mlops:costCenter: b\n",
        "Pulumi.broken.yaml line 3: the key 'config' appears twice (first on line 1); YAML keeps only the last "
        "one, so the first is silently lost. Merge the two into one",
    ),
    (
        "tab-indent",
        b"config:\n\tpai-mlops:owner: a\n",
        "Pulumi.broken.yaml line 2: not valid YAML: while scanning for the next token: found character '\\t' that "
        "cannot start any token. Indent with spaces, never tabs",
    ),
    (
        "unclosed-list",
        b"config:\n  pai-mlops:owner: [unclosed\n",
        "Pulumi.broken.yaml line 3: not valid YAML: while parsing a flow sequence that begins on line 2, column 20: "
        "expected ',' or ']', but got '<stream end>'. Check the indentation and quoting",
    ),
    (
        "key-not-text",
        b"config:\n  [a, b]: c\n",
        "Pulumi.broken.yaml line 2: a key must be plain text, got a list. Write 'name: value'",
    ),
]


@pytest.mark.parametrize(("case", "content", "message"), CASES, ids=[case for case, _, _ in CASES])
def test_a_malformed_stack_file_exits_2_with_one_message(
    case: str, content: bytes, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project_copy(tmp_path)
    (root / "Pulumi.broken.yaml").write_bytes(content)
    code = plan.main(["--stack", "broken", "--root", str(root)])
    captured = capsys.readouterr()
    assert (code, captured.out) == (plan.EXIT_ERROR, "")
    assert captured.err == f"error: {message}\n"
    assert "Traceback" not in captured.err
