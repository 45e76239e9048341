"""Python plugin processes forked from one preloaded interpreter, for the e2e tests.

Every engine command starts the language host and the provider plugins afresh, and each of
them used to import the Pulumi, azure-native and Databricks SDKs (about 5 CPU-seconds for the
program alone, most of the e2e run on two cores). Here one interpreter per test worker imports
those third-party packages once (`serve`); a plugin launch (`run`, what `python.sh` execs
when DATABRICKS_AZUREML_FORKSERVER names the socket) hands it argv, environment, working
directory and its own stdin/stdout/stderr, and gets back a forked child that runs the same
module or script as `__main__`, exactly as `python -u` would, wired to the engine's pipes.

Nothing of the project is preloaded: the program, `components.purge` and the stand-ins are
imported by each child from its own path. The launcher stays the engine's process: it forwards signals to
the child and exits with its code; if the launcher dies, the child kills itself.

    python forkserver.py serve <socket> [module...]   # the preloaded interpreter (default: PRELOAD)
    python -I -S forkserver.py run -u -m <module> [args...] | <script> [args...]
    with running() as socket_path: ...             # `serve` in its own process, from Python
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import signal
import socket
import struct
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from typing import Any

SOCKET_ENV = "DATABRICKS_AZUREML_FORKSERVER"
# Third-party modules every plugin or the program imports; a name missing here costs time only.
PRELOAD = (
    "grpc",
    "google.protobuf.struct_pb2",
    "pulumi",
    "pulumi.dynamic",
    "pulumi.automation._server",
    "pulumi.runtime.proto.provider_pb2_grpc",
    "pulumi.runtime.proto.language_pb2_grpc",
    "pulumi_policy",
    "pulumi_databricks",
    "pulumi_azure_native",
    "azure.identity",
    "azure.mgmt.resource.resources",
    "azure.mgmt.keyvault",
    "dill",
    "requests",
    "pydantic",
    "pydantic.main",
    "pydantic.fields",
    "pydantic.json_schema",
    "pydantic.alias_generators",
    "grpc.experimental",
    "grpc._server",
    "pulumi.runtime.resource_hooks",
    "zoneinfo",
    "difflib",
    "fractions",
    "runpy",
)
# azure-native loads a module's classes on first use: touch the ones the program declares.
AZURE_NATIVE_CLASSES = (
    "applicationinsights.Component",
    "authorization.RoleAssignment",
    "consumption.Budget",
    "containerregistry.Registry",
    "databricks.Workspace",
    "keyvault.Vault",
    "machinelearningservices.Workspace",
    "managedidentity.UserAssignedIdentity",
    "monitor.DiagnosticSetting",
    "network.VirtualNetwork",
    "operationalinsights.Workspace",
    "privatedns.PrivateZone",
    "resources.ResourceGroup",
    "storage.StorageAccount",
)
_HEADER = struct.Struct("!I")


def _preload(modules: list[str]) -> None:
    import importlib

    for name in modules or PRELOAD:
        importlib.import_module(name)
    if modules:
        return
    native = importlib.import_module("pulumi_azure_native")
    for dotted in AZURE_NATIVE_CLASSES:
        module, cls = dotted.split(".")
        getattr(getattr(native, module), cls)


def serve(path: str, modules: list[str]) -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    _preload(modules)
    # What was preloaded lives as long as each child: out of the collector's reach, a child's
    # full collections do not walk it (half a program run's CPU) nor copy its pages.
    gc.freeze()
    base_path = list(sys.path)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        try:
            request, fds = _receive(conn)
        except (OSError, ValueError):
            conn.close()
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            listener.close()
            _child(conn, request, fds, base_path)  # never returns
        for fd in fds:
            os.close(fd)
        conn.close()


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
    if len(fds) != 3 or len(data) < _HEADER.size:
        for fd in fds:
            os.close(fd)
        raise ValueError("a launch request carries its length, a body and three descriptors")
    (length,) = _HEADER.unpack_from(data)
    body = data[_HEADER.size :]
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            raise ValueError("the launcher went away mid-request")
        body += chunk
    return json.loads(body), fds


def _child(conn: socket.socket, request: dict[str, Any], fds: list[int], base: list[str]) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    # `python -u`: unbuffered binary layer, text written through.
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), write_through=True, errors="backslashreplace"
    )
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    module, script, args = request.get("module"), request.get("script"), request["args"]
    with contextlib.suppress(OSError), open("/proc/self/comm", "w") as comm:
        comm.write((module or os.path.basename(script).removesuffix(".py"))[-15:])  # for `ps`
    first = os.getcwd() if module else os.path.dirname(os.path.abspath(script))
    extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [first, *extra, *base]
    import importlib

    importlib.invalidate_caches()
    _send(conn, {"pid": os.getpid()})
    threading.Thread(target=_lifeline, args=(conn,), daemon=True).start()
    code = _run(module, script, args)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    try:
        _send(conn, {"exit": code})
    finally:
        os._exit(code)


def _run(module: str | None, script: str | None, args: list[str]) -> int:
    import runpy

    try:
        if module:
            sys.argv = [module, *args]
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        else:
            sys.argv = [str(script), *args]
            runpy.run_path(str(script), run_name="__main__")
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            return stop.code or 0
        print(stop.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def _lifeline(conn: socket.socket) -> None:
    """The launcher never writes after its request: end of stream means it is gone."""
    try:
        while conn.recv(1):
            pass
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGKILL)


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


@contextlib.contextmanager
def running(modules: Sequence[str] = ()) -> Iterator[str]:
    """A fork server in a process of its own (preloading `modules`, or PRELOAD when none are
    given), for as long as the block lasts; yields its socket's path."""
    import shutil
    import subprocess
    import tempfile

    folder = tempfile.mkdtemp(prefix="fork-")  # short: a socket path has ~100 bytes
    path = os.path.join(folder, "socket")
    server = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "serve", path, *modules],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        if server.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the fork server did not start (exit {server.wait()})")
        yield path
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def run(argv: list[str]) -> int:
    """The launcher: what the engine started, standing in for `python <argv>`."""
    args = list(argv)
    while args[:1] == ["-u"]:  # the child's output is unbuffered anyway
        args = args[1:]
    request: dict[str, Any] = {"cwd": os.getcwd(), "env": dict(os.environ)}
    if args[:1] == ["-m"]:
        request.update(module=args[1], args=args[2:])
    else:
        request.update(script=os.path.abspath(args[0]), args=args[1:])
    # Signals are forwarded to the child; one that comes before its pid is known waits for it.
    child: list[int] = []
    pending: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        if not child:
            pending.append(signum)
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(child[0], signum)

    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, forward)
    body = json.dumps(request).encode()
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(os.environ[SOCKET_ENV])
    socket.send_fds(conn, [_HEADER.pack(len(body)) + body], [0, 1, 2])
    replies = conn.makefile("rb")
    started = replies.readline()
    if not started:
        return 1
    child.append(json.loads(started)["pid"])
    for signum in pending:
        forward(signum, None)
    ended = replies.readline()
    return int(json.loads(ended)["exit"]) if ended else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], sys.argv[3:])
    elif sys.argv[1:2] == ["run"]:
        sys.exit(run(sys.argv[2:]))
    else:
        sys.exit(__doc__)
