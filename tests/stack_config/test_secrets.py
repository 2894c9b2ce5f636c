"""The config's secret checks as pure functions: credentials inside URLs, credential keys set in plain text, and
problems that must not echo a value. (Through the offline plan: tests/policies/test_attacks.py, CONFIG_ATTACKS.)"""

from __future__ import annotations

import pytest

from config_problems import HIDDEN, MISSING, Problem, holds_credential
from stack_config import credential_url_problems, hide_secret_values, plaintext_secret_problems


@pytest.mark.parametrize(
    ("value", "holds"),
    [
        ("https://x-access-token:ghp_abc@github.com/acme/m.git", True),
        ("https://alice@codeup.aliyun.com/acme/m.git", True),
        ("http://user:pw@prometheus:9090", True),
        ({"nested": ["ok", "https://u:p@h/x"]}, True),
        ("https://github.com/acme/m.git", False),
        ("https://github.com/acme/m@v2.git", False),  # an @ in the path is not userinfo
        ("git@github.com:acme/m.git", False),  # SSH form: no scheme, no credential in it
        ("registry.cn-hangzhou.aliyuncs.com/acme/img@sha256:0123", False),
        (7, False),
    ],
)
def test_holds_credential(value: object, holds: bool) -> None:
    assert holds_credential(value) is holds


def test_every_credential_url_in_the_config_is_a_problem_naming_its_key() -> None:
    raw = {
        "notebook": {"code": {"repository": "https://u:t@github.com/a/b.git"}},
        "training": {"jobs": [{"code": {"repository": "https://github.com/a/b.git"}}, {"image": "https://u:p@x/i"}]},
    }
    assert [(p.where, p.key, p.value) for p in credential_url_problems(raw)] == [
        ("pai-mlops:notebook.code", "repository", HIDDEN),
        ("pai-mlops:training.jobs[1]", "image", HIDDEN),
    ]
    assert str(credential_url_problems(raw)[0]).startswith(
        "pai-mlops:notebook.code [repository]: holds a user name or token inside the URL; got a value not shown here."
    )


def test_credential_keys_must_be_secret_keys() -> None:
    keys = ["pai-mlops:gitAccessToken", "pai-mlops:servingToken", "alicloud:secretKey", "pai-mlops:owner"]
    problems = plaintext_secret_problems(keys, secret_keys={"pai-mlops:servingToken"})
    assert [(p.where, p.key, p.value) for p in problems] == [
        ("alicloud", "secretKey", HIDDEN),
        ("pai-mlops", "gitAccessToken", HIDDEN),
    ]
    assert plaintext_secret_problems(keys, secret_keys=set(keys)) == []


def test_values_of_keys_set_as_secrets_are_hidden_and_others_kept() -> None:
    problems = [
        Problem("pai-mlops", "workspace", "must be an object", "[secret]", "Give {name}"),
        Problem("pai-mlops:storage", "bucketName", "must be 3 to 63 characters", "ab", "Rename it"),
        Problem("pai-mlops:serving.services[0]", "name", "must not be empty", "", "Name it"),
        Problem("pai-mlops", "owner", "is required", MISSING, "Name the owner"),
    ]
    hidden = hide_secret_values(problems, secret_names={"workspace", "serving", "owner"})
    assert [p.value for p in hidden] == [HIDDEN, "ab", HIDDEN, MISSING]
