"""The kept Python worker: imports torch once, then runs requests over Node's IPC channel
(newline-delimited JSON on the descriptor named by NODE_CHANNEL_FD).

Each request runs in a child forked from this process, so it starts with torch already loaded but
with none of an earlier request's state: the user's file is read and run afresh, and whatever it
changes (sys.modules, globals, threads, open files, patched torch functions) ends with that child.
The worker itself never runs user code and never runs a torch op (a fork after torch's thread pools
started could deadlock), so every child starts from the same state.

A request is `{"kind": "run", "id": N, "argv": [...], "cwd": DIR, "env": {...}}`, where argv is
what would follow `python` on a command line: a script and its arguments, or `-c CODE ...`. The
reply `{"kind": "done", "id": N, "code": C, "signal": S, ...}` comes once the child has ended.
"""
import json
import os
import sys
import time

STARTED = time.monotonic()


# The bridge's own module that the export and the measured run both import (they sit next to this
# file, first on sys.path): imported once too, and again in a run if its file changed since.
BRIDGE_MODULES = ("memlens_user_code",)


def preload():
    """torch and the exporter's modules, imported once for every request to come."""
    try:
        import torch
        import torch.onnx  # noqa: F401  (the TorchScript exporter and its symbolic tables)
        import torch.nn  # noqa: F401
    except BaseException:  # a broken install: each request reports it through its own run
        return None
    return torch.__version__


def file_stamp(path):
    try:
        st = os.stat(path)
        return (st.st_mtime_ns, st.st_size)
    except OSError:
        return None


def preload_bridge():
    """{module name: its file's stamp} of the bridge modules imported here (none runs a torch op)."""
    stamps = {}
    for name in BRIDGE_MODULES:
        try:
            module = __import__(name)
            stamps[name] = file_stamp(module.__file__)
        except BaseException:  # the run that needs it reports why
            sys.modules.pop(name, None)
    return stamps


def drop_changed(stamps):
    """A bridge module whose file changed after the worker imported it is imported afresh."""
    for name, stamp in stamps.items():
        module = sys.modules.get(name)
        if module is not None and file_stamp(module.__file__) != stamp:
            del sys.modules[name]


def die_with_parent():
    """SIGKILL when the parent ends (Linux): a worker whose editor is gone, or a run whose worker
    is gone, does not run on with no supervisor to hold it to its limits."""
    try:
        import ctypes
        import signal
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass  # elsewhere the closed channel ends an idle worker


def exit_code(status):
    """os.waitstatus_to_exitcode (Python 3.9+), written out for older interpreters."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def run_child(request, channel, state):
    """In the forked child: becomes `python ARGV` in its directory and environment, never returns."""
    code = 1
    try:
        die_with_parent()
        drop_changed(state["bridge"])
        os.close(channel)  # the user's code has no business on the worker's channel
        os.chdir(request["cwd"])
        os.environ.update(request.get("env") or {})
        import tempfile
        tempfile.tempdir = None  # re-read TMPDIR: the request's own directory
        argv = request["argv"]
        if argv[0] == "-c":
            sys.argv = ["-c"] + argv[2:]
            sys.path[0] = ""
            exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        else:
            import runpy
            sys.argv = list(argv)
            sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
            runpy.run_path(argv[0], run_name="__main__")
        code = 0
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            sys.stderr.write("%s\n" % (e.code,))
            code = 1
    except BaseException:
        import traceback
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)  # no interpreter teardown: the worker's atexit hooks are not the child's


def serve(request, channel, state):
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        run_child(request, channel, state)
    _, status = os.waitpid(pid, 0)
    code = exit_code(status)
    state["served"] += 1
    return {
        "kind": "done",
        "id": request.get("id"),
        "code": code if code >= 0 else None,
        "signal": -code if code < 0 else None,
        "workerPid": os.getpid(),
        "childPid": pid,
        "served": state["served"],
        "torch": state["torch"],
        "importMs": state["importMs"],
        "runMs": round((time.monotonic() - started) * 1000, 1),
    }


def messages(channel):
    """The requests Node sends, one JSON object a line; a closed channel ends the worker."""
    pending = b""
    while True:
        chunk = os.read(channel, 65536)
        if not chunk:
            return
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)


def send(channel, message):
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(channel, data):]


def main():
    die_with_parent()
    channel = int(os.environ.pop("NODE_CHANNEL_FD"))
    os.environ.pop("NODE_CHANNEL_SERIALIZATION_MODE", None)
    t0 = time.monotonic()
    state = {"served": 0, "torch": preload(), "importMs": round((time.monotonic() - t0) * 1000, 1)}
    state["bridge"] = preload_bridge() if state["torch"] else {}
    for request in messages(channel):
        # Node's own messages (handle passing) carry a `cmd`; only ours have a kind.
        if isinstance(request, dict) and request.get("kind") == "run":
            send(channel, serve(request, channel, state))
    os._exit(0)


if __name__ == "__main__":
    main()
