"""No network for query workers, by the operating system.

A query worker calls :func:`isolate_network` before it opens the graph: on
Linux it moves into a network namespace of its own, which has no interface
but a loopback that is down, so any connect (SERVICE, FROM, anything the
engine might fetch) fails at once with ENETUNREACH, whatever the lexical
guard decided. As root this needs only ``CLONE_NEWNET``; an unprivileged
user first enters a user namespace of its own (mapping its own uid and gid
onto themselves, so that file access is unchanged).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import socket
import sys

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000


def _unshare(flags: int) -> None:
    if hasattr(os, "unshare"):  # Python 3.12+
        os.unshare(flags)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(ctypes.c_int(flags)) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)


def _unshare_as_user() -> None:
    uid, gid = os.getuid(), os.getgid()
    _unshare(CLONE_NEWUSER | CLONE_NEWNET)
    _write("/proc/self/uid_map", f"{uid} {uid} 1\n")
    with contextlib.suppress(OSError):
        _write("/proc/self/setgroups", "deny\n")
    _write("/proc/self/gid_map", f"{gid} {gid} 1\n")


def network_is_isolated() -> bool:
    """True if a TCP connect to loopback fails as it does in an empty namespace."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.settimeout(1)
        probe.connect(("127.0.0.1", 9))
    except OSError as error:
        return error.errno in (errno.ENETUNREACH, errno.EADDRNOTAVAIL)
    finally:
        probe.close()
    return False


def isolate_network() -> str | None:
    """Move this (single-threaded) process into a network namespace of its
    own. None on success, else one line saying why it could not."""
    if not sys.platform.startswith("linux"):
        return f"network namespaces are a Linux feature, and this is {sys.platform}"
    try:
        _unshare(CLONE_NEWNET)
    except PermissionError:
        try:
            _unshare_as_user()
        except OSError as error:
            return f"unshare(CLONE_NEWUSER|CLONE_NEWNET) failed: {error.strerror or error}"
    except OSError as error:
        return f"unshare(CLONE_NEWNET) failed: {error.strerror or error}"
    if not network_is_isolated():
        return "the new network namespace still reaches loopback"
    return None
