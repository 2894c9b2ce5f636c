"""Point a stack's config at a freshly pushed image, by digest.

    python -m tools.set_image --stack dev --image registry.cn-hangzhou.aliyuncs.com/acme-ml-dev/fraud-train@sha256:…
    python -m tools.set_image --targets fraud-train     # where CI pushes it: "<stack> <host>/<namespace>/<repo>"

CI runs it after pushing an image (``.github/workflows/images.yml``). Every ``image`` / ``imageUrl`` in
``Pulumi.<stack>.yaml`` that names the same repository — whatever tag or digest it had — is rewritten to the new
reference. The file is edited as text, so comments and layout stay; the result must still be a valid stack config.

The reference must be in the stack's own registry (``pai-mlops:registry``: host, namespace, a declared repository)
and must be a digest (``@sha256:`` + 64 hex digits): a tag can be pushed again, a digest names the bytes.

Exit status: 0 updated, or nothing in this stack uses the repository (printed); 2 a bad reference or stack.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from config_problems import StackConfigError
from stack_config import StackConfig, parse_stack_config, raw_from_values
from tools.mock_engine import ROOT, known_stacks, project_name, stack_config_values
from tools.stack_file import StackFileError

DIGEST_REFERENCE: Final = re.compile(r"^(?P<repository>[a-z0-9.-]+/[a-z0-9_-]+/[a-z0-9._-]+)@sha256:[0-9a-f]{64}$")


class ImageError(Exception):
    """The reference or the stack cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Change:
    line: int
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def load(root: Path, stack: str) -> StackConfig:
    """``Pulumi.<stack>.yaml`` as the program reads it (raises StackConfigError naming every problem)."""
    values, secret_keys = stack_config_values(stack, root)
    project = project_name(root)
    secrets_set = frozenset(key.partition(":")[2] for key in secret_keys if key.partition(":")[0] == project)
    return parse_stack_config(raw_from_values(values, project), stack, secrets_set, full_keys=values)


def set_image(root: Path, stack: str, reference: str) -> list[Change]:
    """Rewrite every use of ``reference``'s repository in the stack's file; return the changed lines."""
    match = DIGEST_REFERENCE.match(reference)
    if match is None:
        raise ImageError(
            f"{reference!r} is not a digest reference; give <host>/<namespace>/<repository>@sha256:<64 hex digits> "
            "(docker buildx build --push writes it to --metadata-file as containerimage.digest)"
        )
    stack_file = root / f"Pulumi.{stack}.yaml"
    try:
        registry = load(root, stack).registry
    except StackConfigError as error:
        raise ImageError(f"{stack_file.name} is not a valid stack config: {error}") from error
    if registry is None:
        raise ImageError(f"{stack_file.name} has no pai-mlops:registry; declare the stack's registry first")
    prefix = f"{registry.host}/{registry.namespace}/"
    vpc_prefix = f"{registry.vpc_host}/{registry.namespace}/"
    repository = match["repository"]
    if not repository.startswith((prefix, vpc_prefix)):
        raise ImageError(f"{reference!r} is not in this stack's registry namespace {prefix!r}")
    name = repository.removeprefix(prefix).removeprefix(vpc_prefix)
    if name not in registry.repositories:
        raise ImageError(f"repository {name!r} is not declared in pai-mlops:registry.repositories of {stack_file.name}")
    # CI pushes over the public host; EAS and DLC pull over the VPC host, so that is what the config names.
    reference = f"{vpc_prefix}{name}@{reference.rsplit('@', 1)[1]}"
    # The repository under either host, then an optional tag and an optional digest, to the end of the YAML scalar.
    hosts = "|".join(re.escape(p + name) for p in dict.fromkeys((prefix, vpc_prefix)))
    pattern = re.compile(rf"(?:{hosts})(?::[A-Za-z0-9_.-]+)?(?:@sha256:[0-9a-f]{{64}})?(?=[\s\"']|$)")
    changes: list[Change] = []
    lines = stack_file.read_text(encoding="utf-8").splitlines(keepends=True)
    for index, line in enumerate(lines):
        if pattern.search(line) is None:
            continue
        updated = pattern.sub(reference, line)
        # A use that already names this digest is reported too (before == after), so a rerun says so.
        changes.append(Change(index + 1, line.strip(), updated.strip()))
        lines[index] = updated
    if any(change.changed for change in changes):
        stack_file.write_text("".join(lines), encoding="utf-8")
    return changes


def targets(root: Path, repository: str) -> list[tuple[str, str]]:
    """``(stack, image repository)`` for every stack whose registry declares ``repository``."""
    found: list[tuple[str, str]] = []
    for stack in known_stacks(root):
        registry = load(root, stack).registry
        if registry is not None and repository in registry.repositories:
            found.append((stack, f"{registry.host}/{registry.namespace}/{repository}"))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.set_image", description="Point a stack at a pushed image.")
    parser.add_argument("--stack", help="the stack whose Pulumi.<stack>.yaml to update")
    parser.add_argument("--image", help="<host>/<namespace>/<repository>@sha256:<digest>")
    parser.add_argument("--targets", metavar="REPOSITORY", help="list the stacks and image repositories to push to")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project directory")
    args = parser.parse_args(argv)
    if args.targets is not None:
        for stack, repository in targets(args.root, args.targets):
            print(f"{stack} {repository}")
        return 0
    if not args.stack or not args.image:
        parser.error("give --stack and --image, or --targets")
    stack_file = args.root / f"Pulumi.{args.stack}.yaml"
    if not stack_file.is_file():
        print(f"error: no stack file {stack_file}", file=sys.stderr)
        return 2
    original = stack_file.read_text(encoding="utf-8")
    try:
        changes = set_image(args.root, args.stack, args.image)
        load(args.root, args.stack)
    except (ImageError, StackFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except StackConfigError as error:
        stack_file.write_text(original, encoding="utf-8")
        print(f"error: the updated config is invalid, {stack_file.name} left unchanged: {error}", file=sys.stderr)
        return 2
    if not changes:
        print(f"{stack_file.name}: no image of {args.image.split('@')[0]}; unchanged")
    for change in changes:
        if change.changed:
            print(f"{stack_file.name}:{change.line}: {change.before}  →  {change.after}")
        else:
            print(f"{stack_file.name}:{change.line}: already {change.after}; unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
