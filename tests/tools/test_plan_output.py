"""What the offline plan shows (tools/plan_output.py): values as a preview shows them, short type tokens, the CI
summary."""

from __future__ import annotations

from tests.support.policy_harness import secret
from tools import plan_output


def test_display_hides_secrets_marks_unknowns_and_shows_whole_numbers() -> None:
    wire = {
        "token": secret("t0k3n"),
        "key": "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "n": [3.0, 0.5],
        "tags": {"a": "b"},
    }
    assert plan_output.display(wire) == {"token": "[secret]", "key": "[unknown]", "n": [3, 0.5], "tags": {"a": "b"}}


def test_a_summary_fence_cannot_be_closed_by_the_message() -> None:
    text = plan_output.render_summary("dev", None, error="a value with ``` inside")
    assert text.splitlines()[4:7] == ["````text", "a value with ``` inside", "````"]


def test_type_tokens_drop_the_module_file_that_repeats_the_class_name() -> None:
    assert plan_output.short_type("alicloud:oss/bucketAcl:BucketAcl") == "alicloud:oss:BucketAcl"
    assert plan_output.short_type("alicloud:pai/service:Service") == "alicloud:pai:Service"
    # The file part differs from the class name, or there is no file part: the token stays whole.
    assert plan_output.short_type("alicloud:fc/v3Function:V3Trigger") == "alicloud:fc/v3Function:V3Trigger"
    assert plan_output.short_type("pulumi-python:dynamic/pai:TrainingJob") == "pulumi-python:dynamic/pai:TrainingJob"
    assert plan_output.short_type("pai-mlops:serving:BlueGreen") == "pai-mlops:serving:BlueGreen"
