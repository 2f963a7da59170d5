"""``meterd`` with one storage fault armed through libfiu (Debian's fiu-utils and libfiu0), for the fault
tests: run it under ``fiu-run -x`` (which preloads libfiu and its wrappers of the POSIX I/O functions).

    fiu-run -x python tests/fiu_serve.py --call fsync --errno EIO --nth 3 --fired F --wal DB-wal -- serve ...

The fault is the ``--nth`` call (counted from when it is armed) of ``--call`` (write, pwrite, fsync or
fdatasync; pwrite64 is pwrite) made by the SQLite writer thread (``meterd-writer``): that call fails with
``--errno`` without doing anything. Only the writer's calls count, and not those made while it logs, so the
fault hits the storage and nothing else. The count is armed once the file ``--fired`` + ".arm" exists (the
test sets its data up first); when the fault fires, the file ``--fired`` is created. With ``--nth 0`` nothing
fails: the calls are only counted, and their number is written to ``--fired`` at exit (to size a sweep).

A failed sync also does what a kernel may do then: the WAL (``--wal``) loses what was written to it since
the last sync (it is cut back to that size), so a write acknowledged without a good sync would be missing
after a restart.
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import errno
import os
import sys
import threading

POINTS = {
    "write": "posix/io/rw/write",
    "pwrite": "posix/io/rw/pwrite",
    "fsync": "posix/io/sync/fsync",
    "fdatasync": "posix/io/sync/fdatasync",
}
WRITER = "meterd-writer"

# int external_cb_t(const char *name, int *failnum, void **failinfo, unsigned int *flags)
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int,
    ctypes.c_char_p,
    ctypes.POINTER(ctypes.c_int),
    ctypes.POINTER(ctypes.c_void_p),
    ctypes.POINTER(ctypes.c_uint),
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--call", choices=sorted(POINTS), required=True)
    parser.add_argument("--errno", default="EIO")
    parser.add_argument("--nth", type=int, required=True)
    parser.add_argument("--fired", required=True)
    parser.add_argument("--wal", required=True)
    parser.add_argument("meterd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    state = {"armed": False, "count": 0, "fired": False, "synced": None}
    lock = threading.Lock()
    syncs = args.call in ("fsync", "fdatasync")

    def decide(name: bytes, failnum: object, failinfo: object, flags: object) -> int:
        if state["fired"] or threading.current_thread().name != WRITER:
            return 0
        if not state["armed"]:
            state["armed"] = os.path.exists(args.fired + ".arm")
            if not state["armed"]:
                return 0
        frame = sys._getframe(1)
        while frame is not None:  # the writer's own log lines are not storage
            if frame.f_code.co_filename.endswith(os.path.join("logging", "__init__.py")):
                return 0
            frame = frame.f_back  # type: ignore[assignment]
        with lock:
            state["count"] += 1
            if state["count"] != args.nth:
                if syncs and os.path.exists(args.wal):  # about to be synced (it succeeds)
                    state["synced"] = os.path.getsize(args.wal)
                return 0
            state["fired"] = True
        if syncs and state["synced"] is not None:
            os.truncate(args.wal, state["synced"])
        with open(args.fired, "w") as out:
            out.write(f"{args.call} {args.errno} {args.nth}\n")
        return 1

    callback = _CALLBACK(decide)
    libfiu = ctypes.CDLL("libfiu.so.0")
    libfiu.fiu_enable_external.argtypes = [
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_uint,
        _CALLBACK,
    ]
    code = getattr(errno, args.errno)
    if libfiu.fiu_enable_external(POINTS[args.call].encode(), 1, ctypes.c_void_p(code), 0, callback) != 0:
        sys.exit(f"fiu_enable_external failed for {POINTS[args.call]}")

    def at_exit() -> None:
        # Before the interpreter goes: a callback into Python during its finalization would crash it.
        libfiu.fiu_disable(POINTS[args.call].encode())
        if args.nth == 0:
            with open(args.fired, "w") as out:
                out.write(f"{state['count']}\n")

    atexit.register(at_exit)
    sys.argv = ["meterd", *[a for a in args.meterd if a != "--"]]
    from meterd.server.command import main as meterd_main

    meterd_main()


if __name__ == "__main__":
    main()
