"""What ``./plan`` runs: the offline plan, with an exit code a script can rely on whatever fails.

An uncaught exception makes Python exit 1, the plan's code for a mandatory violation. Here the plan is imported
and run inside a guard, so a broken environment (a package missing from ``.venv``) or a crash of the plan itself
exits 2, with the traceback and a line saying it is not a policy result.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

EXIT_ERROR = 2


def run(argv: Sequence[str] | None = None) -> int:
    try:
        from tools import plan
        from tools.mock_engine import close_event_loop
    except Exception:
        traceback.print_exc()
        print(
            "error: the offline plan could not start (above): .venv looks broken. Run `make clean`, then `./plan`",
            file=sys.stderr,
        )
        return EXIT_ERROR
    try:
        return plan.main(argv)
    except Exception:
        traceback.print_exc()
        print("error: the offline plan failed (above); this is not a policy result", file=sys.stderr)
        return EXIT_ERROR
    finally:
        close_event_loop()


if __name__ == "__main__":
    sys.exit(run())
