"""A local stand-in for the PAI APIs (EAS, DLC, DSW), OSS and serving metrics, spoken to by the real SDKs.

Start it in-process (``Emulator().start()``, as the test suite does) or on its own
(``python -m tests.emulator --port 8500``); drive it with :class:`Control` or plain HTTP. See README.md here.
"""

from tests.emulator.control import Control
from tests.emulator.server import Emulator

__all__ = ["Control", "Emulator"]
