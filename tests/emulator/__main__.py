"""``python -m tests.emulator --port PORT``: serve the emulator until stopped, for manual runs and demos."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from tests.emulator.server import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--speed", type=float, default=1.0, help="virtual seconds per real second (default 1)")
    parser.add_argument("--region", default="cn-hangzhou", help="the region EAS services are created in")
    options = parser.parse_args(argv)
    emulator = Emulator(port=options.port, speed=options.speed, region=options.region).start()
    print(emulator.url, flush=True)
    print("Point the providers at it with:", file=sys.stderr)
    for name, value in emulator.environment().items():
        print(f"  export {name}={value}", file=sys.stderr)
    print("Stop with Ctrl-C.", file=sys.stderr, flush=True)
    stopped = threading.Event()

    def stop(*_: object) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
