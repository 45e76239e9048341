"""The Python language host: what the engine launches as `pulumi-language-python`.

The Go language host (sdk/python/cmd/pulumi-language-python) is a nested module without tags,
and the Go module proxy does not serve a version of it. This host serves the Python SDK's own
LanguageServer (the one the Automation API uses for inline programs), whose program runs the
project's `__main__.py` with runpy, in a fresh process for each engine command. It also runs
policy packs (RunPlugin, kind analyzer) the way the Go host does: `python -u -m pulumi.policy
<engine> <pack dir>` in the pack's directory, with its stdout and stderr streamed back, and
ends them as the Go host does: when the engine ends the RunPlugin call, and when it stops the
host.

Not covered: dependency installation (`pulumi install`), toolchains, `pulumi about`.
"""

from __future__ import annotations

import os
import runpy
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

ANALYZER = "analyzer"
LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "python.sh")
SOCKET_ENV = "DATABRICKS_AZUREML_FORKSERVER"  # forkserver.py's; this script imports none of it


def _program(root: str) -> None:
    if root not in sys.path:
        sys.path.insert(0, root)
    runpy.run_path(os.path.join(root, "__main__.py"), run_name="__main__")


def _pack_python(pack: str, info: Any) -> str:
    """The Python of the pack's `virtualenv` runtime option (PulumiPolicy.yaml), as the Go host
    resolves it; this host's own Python when the pack names none."""
    options = dict(info.options.items()) if info.HasField("options") else {}
    virtualenv = options.get("virtualenv")
    if not virtualenv:
        return sys.executable
    python = os.path.join(pack, str(virtualenv), "bin", "python")
    if not os.path.exists(python):
        raise FileNotFoundError(f"the policy pack's virtualenv has no Python: {python}")
    return python


def _forked_if_ours(python: str) -> str:
    """`python`, or, when it is this host's own environment and a fork server runs, the
    launcher that forks the pack from that preloaded interpreter (forkserver.py) instead of
    starting it cold."""
    ours = os.path.realpath(sys.prefix)
    if (
        os.environ.get(SOCKET_ENV)
        and os.path.realpath(os.path.dirname(os.path.dirname(python))) == ours
    ):
        return LAUNCHER
    return python


def _end(process: subprocess.Popen[bytes]) -> None:
    """Kill the pack and reap it. The Go host starts it with exec.CommandContext on the
    RunPlugin call's context, so it is killed (SIGKILL) when the engine cancels the call, which
    is what the engine's plugin Kill does for a plugin run by a language host
    (pulumi/pulumi: sdk/python/cmd/pulumi-language-python/main.go RunPlugin,
    sdk/go/common/resource/plugin/plugin.go)."""
    if process.poll() is None:
        process.kill()
    process.wait()


def _stream(process: subprocess.Popen[bytes]) -> Iterator[Any]:
    """The process's stdout and stderr as RunPluginResponses while it runs, then its exit code."""
    responses: list[Any] = []
    ready = threading.Condition()

    def pump(stream: Any, field: str) -> None:
        for chunk in iter(lambda: stream.read1(4096), b""):
            with ready:
                responses.append(language_pb2.RunPluginResponse(**{field: chunk}))
                ready.notify()

    pumps = [
        threading.Thread(target=pump, args=(process.stdout, "stdout"), daemon=True),
        threading.Thread(target=pump, args=(process.stderr, "stderr"), daemon=True),
    ]
    for thread in pumps:
        thread.start()
    while True:
        with ready:
            ready.wait_for(lambda: responses or process.poll() is not None, timeout=1)
            batch, responses[:] = list(responses), []
        yield from batch
        if process.poll() is not None and not any(t.is_alive() for t in pumps):
            with ready:
                yield from responses
            yield language_pb2.RunPluginResponse(exitcode=process.returncode)
            return


class LanguageHost(LanguageServer):
    def __init__(self, engine_address: str) -> None:
        self.engine_address = engine_address
        self.root = os.getcwd()  # the engine starts language hosts in the project directory
        self.plugins: set[subprocess.Popen[bytes]] = set()
        self.plugins_lock = threading.Lock()
        super().__init__(lambda: _program(self.root))

    def Run(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC method name)
        if request.info.root_directory:
            self.root = request.info.root_directory
        # LanguageServer takes the engine's address from args[0], where the Automation API
        # puts it; the engine itself sends it on the command line.
        patched = language_pb2.RunRequest()
        patched.CopyFrom(request)
        del patched.args[:]
        patched.args.append(self.engine_address)
        return super().Run(patched, context)

    def RunPlugin(self, request: Any, context: Any) -> Iterator[Any]:  # noqa: N802
        if request.kind != ANALYZER:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, "only policy packs run here")
        pack = request.info.program_directory
        command = [
            _forked_if_ours(_pack_python(pack, request.info)),
            "-u",
            "-m",
            "pulumi.policy",
            *request.args,
            pack,
        ]
        env = dict(os.environ)
        env.update(item.split("=", 1) for item in request.env if "=" in item)
        process = subprocess.Popen(
            command, cwd=pack, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        with self.plugins_lock:
            self.plugins.add(process)
        # Called when the call ends for any reason, the engine's cancel included.
        context.add_callback(lambda: self._end_plugin(process))
        try:
            yield from _stream(process)
        finally:
            self._end_plugin(process)

    def _end_plugin(self, process: subprocess.Popen[bytes]) -> None:
        _end(process)
        with self.plugins_lock:
            self.plugins.discard(process)

    def end_plugins(self) -> None:
        with self.plugins_lock:
            running = list(self.plugins)
        for process in running:
            self._end_plugin(process)


def main() -> None:
    # Run as a script: keep this folder off the program's import path.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [path for path in sys.path if os.path.abspath(path) != here]
    engine_address = next((arg for arg in reversed(sys.argv[1:]) if not arg.startswith("-")), "")
    # The engine stops a plugin with SIGINT to its process group, then SIGKILL after 5 s;
    # SIGTERM (python.sh forwards it) ends the host the same way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    host = LanguageHost(engine_address)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(host, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:  # how the engine stops its plugins
        server.stop(grace=None)
    finally:
        host.end_plugins()


if __name__ == "__main__":
    main()
