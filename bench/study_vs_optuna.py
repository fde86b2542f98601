#!/usr/bin/python3
"""evolv's studies side by side with Optuna (Debian's python3-optuna), in one run.

1. Overhead: trials per second of an ask/tell loop with a no-op objective, one client, one study:
   evolv over gRPC (a real evolvd on loopback with its RocksDB store) against Optuna with an
   SQLite storage on disk and in memory. Each sampler is the same kind on both sides (random
   search), so what is measured is the service's own cost per trial; evolv's default (the Gaussian
   process) against Optuna's default (TPE) is printed beside it, as it includes the model's cost.
   Median and worst of --repeats runs. Target: evolv at least 10x Optuna+SQLite.
2. Quality: best value after 100 and 300 evaluations on Branin (2-D), Hartmann-6 and
   Rosenbrock (10-D), over --seeds seeds: evolv's default strategy (a study with one objective:
   the Gaussian-process search) against Optuna's default sampler (TPESampler()), median and
   quartiles. Target: evolv's median at or below Optuna's on each. Both evaluate sequentially
   (one trial in flight; evolv's window 1).

  PYTHONPATH=build/python /usr/bin/python3 bench/study_vs_optuna.py --evolvd build/evolvd
Exits 1 when a target is missed (after printing everything), 2 on bad usage.
"""
import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import optuna

from evolv.study import Study

optuna.logging.set_verbosity(optuna.logging.WARNING)


# ---------------------------------------------------------------------------------------------
# The test functions, each with its box.

def branin(x):
    b, c = 5.1 / (4 * math.pi ** 2), 5 / math.pi
    return ((x[1] - b * x[0] ** 2 + c * x[0] - 6) ** 2
            + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x[0]) + 10)


HARTMANN_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
              [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HARTMANN_P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
              [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]


def hartmann6(x):
    total = 0.0
    for i in range(4):
        inner = sum(HARTMANN_A[i][j] * (x[j] - HARTMANN_P[i][j] * 1e-4) ** 2 for j in range(6))
        total -= HARTMANN_ALPHA[i] * math.exp(-inner)
    return total


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


FUNCTIONS = [
    ("Branin (2-D)", branin, [(-5.0, 10.0), (0.0, 15.0)], 0.397887),
    ("Hartmann-6", hartmann6, [(0.0, 1.0)] * 6, -3.32237),
    ("Rosenbrock (10-D)", rosenbrock, [(-5.0, 10.0)] * 10, 0.0),
]


def study_spec(name, bounds, budget, seed, objective, strategy=None):
    spec = {
        "name": name,
        "study": {
            "parameters": [{"name": "x%d" % i, "real": {"low": lo, "high": hi, "digits": 12}}
                           for i, (lo, hi) in enumerate(bounds)],
            "objectives": [{"name": "value"}],
            "clients": {"objective": objective},
        },
        "budget": {"max_evaluations": budget},
        "seed": seed,
        "window": 1,
    }
    if strategy:
        spec["strategy"] = strategy
    return spec


# ---------------------------------------------------------------------------------------------
# Runs.

RUN_TAG = "%d-%d" % (os.getpid(), int(time.time()))  # fresh cache keys for every run


def evolv_overhead(server, trials, strategy, tag):
    """Trials per second of one client's ask/tell loop, no-op objective."""
    spec = study_spec("overhead", [(0.0, 1.0)] * 2, trials, 1, "noop/%s/%s" % (RUN_TAG, tag),
                      strategy)
    study = Study(server, spec, client_id="bench")
    start = time.perf_counter()
    told = 0
    while (trial := study.ask()) is not None:
        study.tell(trial, 0.0)
        told += 1
    return told / (time.perf_counter() - start)


def optuna_overhead(trials, storage, sampler):
    study = optuna.create_study(storage=storage, sampler=sampler)
    start = time.perf_counter()
    for _ in range(trials):
        trial = study.ask()
        trial.suggest_float("x0", 0.0, 1.0)
        trial.suggest_float("x1", 0.0, 1.0)
        study.tell(trial, 0.0)
    return trials / (time.perf_counter() - start)


def evolv_quality(server, fn, bounds, budget, seed, tag):
    """Best-so-far after each evaluation of evolv's default strategy."""
    spec = study_spec("quality", bounds, budget, seed, "quality/%s/%s" % (RUN_TAG, tag))
    study = Study(server, spec, client_id="bench")
    values = {}
    while (trial := study.ask()) is not None:
        x = [trial.params["x%d" % i] for i in range(len(bounds))]
        value = fn(x)
        values[trial.id] = value
        study.tell(trial, value)
    # A configuration served from the cache is never asked; every trial here was evaluated.
    best, curve = math.inf, []
    for k in sorted(values):
        best = min(best, values[k])
        curve.append(best)
    return curve


def optuna_quality(fn, bounds, budget, seed):
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    curve, best = [], math.inf
    for _ in range(budget):
        trial = study.ask()
        x = [trial.suggest_float("x%d" % i, lo, hi) for i, (lo, hi) in enumerate(bounds)]
        value = fn(x)
        study.tell(trial, value)
        best = min(best, value)
        curve.append(best)
    return curve


def quartiles(values):
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], statistics.median(values), q[2]


def start_evolvd(binary, data_dir):
    port_file = os.path.join(data_dir + ".ports")
    proc = subprocess.Popen([binary, "--data-dir", data_dir, "--grpc-port", "0", "--http-port",
                             "0", "--port-file", port_file, "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("evolvd exited with %s" % proc.returncode)
        if os.path.exists(port_file):
            ports = dict(line.split("=") for line in open(port_file).read().split())
            if "grpc" in ports:
                return proc, "127.0.0.1:%s" % ports["grpc"]
        time.sleep(0.05)
    proc.kill()
    sys.exit("evolvd did not start within 60 s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evolvd", default="build/evolvd")
    parser.add_argument("--repeats", type=int, default=5, help="overhead runs per setting")
    parser.add_argument("--overhead-trials", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--checkpoints", default="100,300")
    parser.add_argument("--parallel", type=int, default=2, help="quality runs at once")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    checkpoints = [int(c) for c in args.checkpoints.split(",")]
    if args.repeats < 1 or args.seeds < 2 or any(c < 1 or c > args.budget for c in checkpoints):
        parser.error("--repeats >= 1, --seeds >= 2, checkpoints within the budget")

    work = tempfile.mkdtemp(prefix="study-vs-optuna-")
    proc, server = start_evolvd(args.evolvd, os.path.join(work, "data"))
    missed = []
    try:
        print("# evolv studies vs Optuna %s, %d cores, %s" % (
            optuna.__version__, os.cpu_count(), time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime())))
        print("\n## Overhead: trials/s of one ask/tell loop, no-op objective, %d trials, "
              "median (worst) of %d runs" % (args.overhead_trials, args.repeats))
        rates = {}
        settings = [
            ("evolv, random search, gRPC + RocksDB",
             lambda r: evolv_overhead(server, args.overhead_trials, {"random": {}}, "r%d" % r)),
            ("Optuna, RandomSampler, SQLite",
             lambda r: optuna_overhead(args.overhead_trials,
                                       "sqlite:///%s/optuna-%d.db" % (work, r),
                                       optuna.samplers.RandomSampler(seed=r))),
            ("Optuna, RandomSampler, in memory",
             lambda r: optuna_overhead(args.overhead_trials, None,
                                       optuna.samplers.RandomSampler(seed=r))),
            ("evolv, default (Gaussian process), gRPC + RocksDB",
             lambda r: evolv_overhead(server, 300, None, "g%d" % r)),
            ("Optuna, default (TPE), SQLite",
             lambda r: optuna_overhead(300, "sqlite:///%s/optuna-tpe-%d.db" % (work, r),
                                       optuna.samplers.TPESampler(seed=r))),
        ]
        for name, run in settings:
            runs = [run(r) for r in range(args.repeats)]
            rates[name] = (statistics.median(runs), min(runs))
            print("  %-52s %9.1f  (worst %.1f)" % (name, *rates[name]))
        ratio = rates[settings[0][0]][0] / rates[settings[1][0]][0]
        worst_ratio = rates[settings[0][0]][1] / rates[settings[1][0]][0]
        default_ratio = rates[settings[3][0]][0] / rates[settings[4][0]][0]
        print("  evolv / Optuna+SQLite, random search: %.1fx (evolv's worst run: %.1fx); "
              "target >= 10x" % (ratio, worst_ratio))
        print("  evolv / Optuna+SQLite, defaults (300 trials): %.1fx (reported, no target)"
              % default_ratio)
        if ratio < 10:
            missed.append("overhead %.1fx < 10x" % ratio)

        if args.skip_quality:
            return
        print("\n## Quality: best value after N evaluations, %d seeds, median [q1, q3]"
              % args.seeds)
        print("  %-18s %5s  %-34s %-34s %s" % ("function", "N", "evolv (default: GP)",
                                               "Optuna (TPESampler)", "evolv <= Optuna"))
        lock = threading.Lock()
        for fname, fn, bounds, optimum in FUNCTIONS:
            started = time.perf_counter()
            with ThreadPoolExecutor(args.parallel) as pool:
                evolv_runs = list(pool.map(
                    lambda s: evolv_quality(server, fn, bounds, args.budget, s,
                                            "%s-%d" % (fname, s)), range(args.seeds)))
            evolv_seconds = time.perf_counter() - started
            started = time.perf_counter()
            optuna_runs = [optuna_quality(fn, bounds, args.budget, s) for s in range(args.seeds)]
            optuna_seconds = time.perf_counter() - started
            for n in checkpoints:
                e = quartiles([run[n - 1] for run in evolv_runs])
                o = quartiles([run[n - 1] for run in optuna_runs])
                ok = e[1] <= o[1]
                with lock:
                    print("  %-18s %5d  %-34s %-34s %s" % (
                        fname, n, "%.4g [%.4g, %.4g]" % (e[1], e[0], e[2]),
                        "%.4g [%.4g, %.4g]" % (o[1], o[0], o[2]), "yes" if ok else "NO"))
                if not ok:
                    missed.append("%s after %d: %.4g > %.4g" % (fname, n, e[1], o[1]))
            print("  %-18s (optimum %g; wall time of the %d runs: evolv %.0f s with %d at once, "
                  "Optuna %.0f s)" % ("", optimum, args.seeds, evolv_seconds, args.parallel,
                                      optuna_seconds))
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
        if missed:
            print("\nmissed: " + "; ".join(missed))
    if missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
