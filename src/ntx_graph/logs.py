"""One logger per module, without importing ``logging`` on the query path.

Importing ``logging`` costs the CLI's start-up about 3 ms, a tenth of a cold
query, so :func:`get_logger` gives a stand-in that creates the real
``logging.Logger`` only when needed:

* a DEBUG or INFO record is passed on only if ``logging`` is imported already
  (``--debug``, ``NTX_DEBUG=1``, the server, a program that configured it);
  an unconfigured root logger would drop it anyway;
* a WARNING or ERROR record imports ``logging`` and is always passed on.

Records name the caller's line (``stacklevel=2``), as a plain logger's would.

>>> log = get_logger("ntx_graph.example")
>>> log.name
'ntx_graph.example'
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's: importing typing costs the CLI's start-up ~3 ms
if TYPE_CHECKING:
    import logging


class LazyLogger:
    """A logger created on first use (see the module's docstring)."""

    __slots__ = ("_logger", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger: logging.Logger | None = None

    def logger(self) -> logging.Logger:
        """The real logger (imports ``logging``)."""
        if self._logger is None:
            import logging

            self._logger = logging.getLogger(self.name)
        return self._logger

    def _active(self) -> bool:
        return self._logger is not None or "logging" in sys.modules

    def debug(self, message: str, *args: object) -> None:
        if self._active():
            self.logger().debug(message, *args, stacklevel=2)

    def info(self, message: str, *args: object) -> None:
        if self._active():
            self.logger().info(message, *args, stacklevel=2)

    def warning(self, message: str, *args: object) -> None:
        self.logger().warning(message, *args, stacklevel=2)

    def error(self, message: str, *args: object, exc_info: bool = False) -> None:
        self.logger().error(message, *args, exc_info=exc_info, stacklevel=2)

    def exception(self, message: str, *args: object) -> None:
        """An ERROR record with the traceback of the exception being handled."""
        self.logger().exception(message, *args, stacklevel=2)


def get_logger(name: str) -> LazyLogger:
    """The logger for module ``name`` (pass ``__name__``)."""
    return LazyLogger(name)
