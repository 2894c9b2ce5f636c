"""Every malformed stack file is one message naming the file, the line and the fix, through the plan's entry point.

Each case is a file a newcomer writes by accident; before ``tools/stack_file.py`` several of them crashed the plan
with a traceback (a list, ``config:`` as a list, bytes that are not UTF-8) or were silently misread (duplicate
keys, a second ``config:``, unquoted dates, ``.inf``/``.nan``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.program_copy import project_copy
from tools import plan, plan_output
from tools.stack_file import read_stack_file

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
        "yaml-1.1-boolean",
        b"config:\n  pai-mlops:owner: no\n",
        "Pulumi.broken.yaml line 2: 'no' is read as a boolean here but as text by the Pulumi CLI. Write true or "
        "false, or quote it ('no') if you mean the text",
    ),
    (
        "base-60-number",
        b"config:\n  pai-mlops:costCenter: 12:30\n",
        "Pulumi.broken.yaml line 2: '12:30' is read as a YAML 1.1 number (base 8 or base 60), unlike the Pulumi "
        "CLI. Quote it ('12:30') if you mean the text, or write the number without leading zeros or colons",
    ),
    (
        "octal-number",
        b"config:\n  pai-mlops:costCenter: 0755\n",
        "Pulumi.broken.yaml line 2: '0755' is read as a YAML 1.1 number (base 8 or base 60), unlike the Pulumi "
        "CLI. Quote it ('0755') if you mean the text, or write the number without leading zeros or colons",
    ),
    (
        "binary-tag",
        b"config:\n  pai-mlops:owner: !!binary aGVsbG8=\n",
        "Pulumi.broken.yaml line 2: the YAML tag 'binary' makes a value no config key takes. Write plain text, a "
        "number, a list or a mapping",
    ),
    (
        "set-tag",
        b"config:\n  pai-mlops:owner: !!set {a, b}\n",
        "Pulumi.broken.yaml line 2: the YAML tag 'set' makes a value no config key takes. Write plain text, a "
        "number, a list or a mapping",
    ),
    (
        "numeric-key",
        b"config:\n  pai-mlops:owner: a\n  123: b\n",
        "Pulumi.broken.yaml line 3: a config key is a number, not text. Write '<namespace>:<key>: <value>', e.g. "
        "'pai-mlops:owner: ml-platform'",
    ),
    (
        "null-key",
        b"config:\n  pai-mlops:owner: a\n  ~: b\n",
        "Pulumi.broken.yaml line 3: a config key is empty (null), not text. Write '<namespace>:<key>: <value>', e.g. "
        "'pai-mlops:owner: ml-platform'",
    ),
    (
        "control-character",
        b"config:\n  pai-mlops:owner: a\n  pai-mlops:costCenter: b\x07c\n",
        "Pulumi.broken.yaml line 3: the control character U+0007 cannot appear in YAML. Delete it (it is invisible in "
        "most editors: retype the line)",
    ),
    (
        "nested-too-deep",
        b"config:\n  pai-mlops:storage: " + b"[" * 5000 + b"]" * 5000 + b"\n",
        "Pulumi.broken.yaml: values are nested too deeply to be config. Flatten them",
    ),
    (
        "huge-number",
        b"config:\n  pai-mlops:storage:\n    checkpointRetentionDays: " + b"9" * 5000 + b"\n",
        "Pulumi.broken.yaml line 3: a number of 5000 characters is not a config value. Quote it",
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
    assert (code, captured.out) == (plan_output.EXIT_ERROR, "")
    assert captured.err == f"error: {message}\n"
    assert "Traceback" not in captured.err


def test_merge_keys_and_keys_equal_only_in_python_are_read_as_yaml_means_them(tmp_path: Path) -> None:
    """`<<: *anchor` may be overridden by its mapping's own keys; `1:` and `true:` are two keys, not a duplicate."""
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(
        "base: &b\n  pai-mlops:owner: x\n  pai-mlops:costCenter: c\nconfig:\n  <<: *b\n  pai-mlops:owner: y\n"
        "other:\n  1: a\n  true: b\n"
    )
    assert read_stack_file(path) == {"pai-mlops:owner": "y", "pai-mlops:costCenter": "c"}
