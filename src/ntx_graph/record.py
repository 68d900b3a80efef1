"""Small immutable values without ``dataclasses``, whose import (``inspect``,
``ast``, ``dis``...) costs the CLI's start-up about 4 ms. A subclass lists its
fields in ``__slots__`` and sets them in a typed ``__init__`` with
:meth:`Record._init`.

>>> class Point(Record):
...     __slots__ = ("x", "y")
...     def __init__(self, x: int, y: int = 0) -> None:
...         self._init(x=x, y=y)
>>> Point(1), Point(1) == Point(1, 0), Point(1).replace(y=2)
(Point(x=1, y=0), True, Point(x=1, y=2))
"""

from __future__ import annotations


class Record:
    """Fields from ``__slots__``; equality, hashing and repr by field; frozen."""

    __slots__ = ()

    def _init(self, **fields: object) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def _names(self) -> tuple[str, ...]:
        names: tuple[str, ...] = self.__slots__
        return names

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._names())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and type(other) is type(self) and other._fields() == self._fields()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *(repr(v) if isinstance(v, dict) else v for v in self._fields())))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._names())
        return f"{type(self).__name__}({shown})"

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), dict(zip(self._names(), self._fields(), strict=True))))

    def replace(self, **changes: object) -> Record:
        """A copy with ``changes``."""
        return _rebuild(type(self), {**dict(zip(self._names(), self._fields(), strict=True)), **changes})


def _rebuild(cls: type[Record], fields: dict[str, object]) -> Record:
    record = object.__new__(cls)
    record._init(**fields)
    return record
