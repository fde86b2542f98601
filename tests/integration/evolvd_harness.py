"""Starts real evolvd processes for the integration and e2e tests.

Ports are chosen by evolvd (port 0) and read back from its --port-file; every wait is bounded;
every child is killed when the test process exits, whatever happens.
"""
import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

_children = []


def _kill_children():
    for proc in _children:
        if proc.poll() is None:
            proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


atexit.register(_kill_children)


class Paths:
    evolvd = None
    evolv = None
    evolv_worker = None
    stubs = None


def parse_args(argv):
    """Reads --evolvd, --evolv and --stubs from argv; returns the rest (for unittest)."""
    rest = []
    it = iter(argv)
    for arg in it:
        if arg == "--evolvd":
            Paths.evolvd = next(it)
        elif arg == "--evolv":
            Paths.evolv = next(it)
        elif arg == "--evolv-worker":
            Paths.evolv_worker = next(it)
        elif arg == "--stubs":
            Paths.stubs = next(it)
        else:
            rest.append(arg)
    if Paths.stubs:
        sys.path.insert(0, Paths.stubs)
    return rest


def wait_for(predicate, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))


def numerics_spec(name="quick", budget=300, seed=1, max_ops=6, window=8,
                  validation_points=10000):
    """A cheap numerics job (16 fitting points). More validation points make each evaluation
    slower, for tests that must catch a job mid-search on a fast machine."""
    return {
        "name": name,
        "numerics": {"target": "exp2", "lower": 0, "upper": 1, "mode": "REAL",
                     "max_ops": max_ops, "fit_points": 16,
                     "validation_points": validation_points},
        "strategy": {"nsga2": {"parents": 20, "children": 20}},
        "budget": {"max_evaluations": budget},
        "seed": seed,
        "window": window,
    }


def write_spec(directory, spec, filename="spec.json"):
    path = os.path.join(directory, filename)
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


class Evolvd:
    """One evolvd process on a data directory (`binary`: another build of evolvd, e.g. the test
    tree's evolvd_with_toy; default Paths.evolvd)."""

    def __init__(self, data_dir, workers=2, extra=(), binary=None):
        self.binary = binary
        self.data_dir = data_dir
        self.workers = workers
        self.extra = list(extra)
        self.proc = None
        self.grpc_port = None
        self.http_port = None
        self.cluster_port = None
        self.log_path = os.path.join(data_dir + ".logs", "evolvd.log")

    def start(self, timeout=60):
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        port_file = os.path.join(os.path.dirname(self.log_path), "ports")
        if os.path.exists(port_file):
            os.remove(port_file)
        cmd = [self.binary or Paths.evolvd, "--data-dir", self.data_dir, "--grpc-port", "0", "--http-port", "0",
               "--port-file", port_file, "--workers", str(self.workers)] + self.extra
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        _children.append(self.proc)

        def ports():
            if self.proc.poll() is not None:
                raise AssertionError("evolvd exited with %s; log:\n%s" % (self.proc.returncode,
                                                                         self.log()))
            if not os.path.exists(port_file):
                return None
            with open(port_file) as f:
                values = dict(line.split("=") for line in f.read().split())
            return int(values["grpc"]), int(values["http"]), int(values.get("cluster", 0))

        self.grpc_port, self.http_port, self.cluster_port = wait_for(
            ports, timeout, "evolvd's port file")
        return self

    @property
    def address(self):
        return "127.0.0.1:%d" % self.grpc_port

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.http_port

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Sends `sig` and waits; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError("evolvd did not stop within %d s after %s" % (timeout, sig))

    def http_get(self, path, timeout=10):
        with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
            return response.status, response.read().decode()

    def cli(self, *args, env=None, timeout=120):
        """Runs the evolv CLI against this server; returns CompletedProcess."""
        full_env = dict(os.environ)
        full_env["EVOLV_SERVER"] = self.address
        full_env.pop("EVOLV_TOKEN", None)
        if env:
            full_env.update(env)
        return subprocess.run([Paths.evolv] + list(args), capture_output=True, text=True,
                              env=full_env, timeout=timeout)


def temp_dir(prefix):
    return tempfile.mkdtemp(prefix=prefix)
