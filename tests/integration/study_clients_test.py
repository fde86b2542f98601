"""Studies evaluated by their clients, end to end: a real evolvd, evolv's Python client
(evolv.study over the generated stubs) and Debian's python3-grpcio.

Run by ctest (label "integration"):
  /usr/bin/python3 study_clients_test.py --evolvd PATH --stubs DIR [--examples DIR] [unittest args]
"""
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

import evolvd_harness as h
from evolvd_harness import Evolvd, wait_for

EXAMPLES = None
rest = []
it = iter(sys.argv[1:])
for arg in it:
    if arg == "--examples":
        EXAMPLES = next(it)
    else:
        rest.append(arg)
ARGS = h.parse_args(rest)

import grpc  # noqa: E402
from evolv import study as client  # noqa: E402
from evolv.v1 import job_pb2, service_pb2  # noqa: E402


def branin(x1, x2):
    b, c = 5.1 / (4 * math.pi ** 2), 5 / math.pi
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10


def study_spec(objective="branin/v1", budget=40, seed=3, window=4, maximize=False,
               strategy=None):
    return {
        "name": "client study",
        "study": {
            "parameters": [{"name": "x1", "real": {"low": -5, "high": 10}},
                           {"name": "x2", "real": {"low": 0, "high": 15}},
                           {"name": "kind", "categorical": {"choices": ["a", "b"]}}],
            "objectives": [{"name": "value",
                            "direction": "MAXIMIZE" if maximize else "MINIMIZE"}],
            "clients": {"objective": objective},
        },
        "strategy": strategy or {"random": {}},
        "budget": {"max_evaluations": budget},
        "seed": seed,
        "window": window,
    }


def value_of(params):
    return branin(params["x1"], params["x2"]) + (0.5 if params["kind"] == "b" else 0.0)


def run_clients(server, job_id, clients=1):
    """Evaluates every trial of `job_id` with `clients` threads; returns the trial ids told."""
    told = []
    lock = threading.Lock()

    def loop(n):
        with client.Study.attach(server, job_id, client_id="t%d" % n) as study:
            while (trial := study.ask(timeout=60)) is not None:
                study.tell(trial, value_of(trial.params))
                with lock:
                    told.append(trial.id)

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return told


class StudyClients(unittest.TestCase):
    def setUp(self):
        self.servers = []

    def tearDown(self):
        for server in self.servers:
            if server.proc and server.proc.poll() is None:
                server.proc.kill()
                server.proc.wait(timeout=10)

    def start(self, data_dir=None, extra=()):
        data_dir = data_dir or os.path.join(h.temp_dir("evolvd-study-"), "data")
        # No --allow-commands: nothing runs on the server's side.
        server = Evolvd(data_dir, workers=1, extra=list(extra)).start()
        self.servers.append(server)
        return server

    def stub(self, server):
        return client.Study.attach(server.address, "unused")._stub

    def wait_ended(self, stub, job_id):
        return wait_for(lambda: (lambda r: r if r.state != job_pb2.RUNNING else None)(
            stub.GetJob(service_pb2.GetJobRequest(job_id=job_id))), 60, "the job to end")

    def history(self, stub, job_id):
        rows = stub.QueryEvaluations(service_pb2.QueryEvaluationsRequest(job_id=job_id,
                                                                          page_size=1000)).rows
        return sorted((r.index, r.rendered, tuple(r.evaluation.objectives)) for r in rows)

    def test_two_clients_run_a_study_to_its_budget_and_a_later_job_is_served_from_the_store(self):
        server = self.start()
        study = client.Study(server.address, study_spec(budget=40))
        told = run_clients(server.address, study.job_id, clients=2)
        record = self.wait_ended(study._stub, study.job_id)
        self.assertEqual(record.state, job_pb2.SUCCEEDED)
        self.assertEqual(record.progress.evaluations, 40)
        self.assertEqual(sorted(told), sorted(set(told)))  # no trial told twice
        self.assertGreaterEqual(len(told), 30)  # random search may repeat a configuration
        params, values = study.best()
        self.assertAlmostEqual(values["value"], value_of(params), places=9)
        history = self.history(study._stub, study.job_id)
        self.assertEqual([i for i, _, _ in history], list(range(40)))
        # Both clients' names are on the stored evaluations.
        rows = study._stub.QueryEvaluations(
            service_pb2.QueryEvaluationsRequest(job_id=study.job_id, page_size=1000)).rows
        workers = {r.evaluation.worker for r in rows if not r.cache_hit}
        self.assertEqual(workers, {"client t0", "client t1"})
        # The status page's data: the study's recent trials with their parameters and clients,
        # and its charts (best so far; each parameter against the objective).
        status, body = server.http_get("/api/jobs/%s/detail" % study.job_id)
        self.assertEqual(status, 200)
        detail = json.loads(body)
        self.assertEqual(len(detail["recent"]), 20)
        for row in detail["recent"]:
            self.assertRegex(row["rendered"], r"^x1=[-0-9.e]+, x2=[-0-9.e]+, kind=[ab]$")
        self.assertTrue({r["evaluation"].get("worker") for r in detail["recent"]} <=
                        {"client t0", "client t1"})
        status, body = server.http_get("/api/jobs/%s/report" % study.job_id)
        charts = {c["name"] for c in json.loads(body)["charts"]}
        self.assertTrue({"best-so-far", "parameter-0", "parameter-1", "parameter-2"} <= charts,
                        charts)
        # The same study again: every configuration is in the store, so no client is asked.
        again = client.Study(server.address, study_spec(budget=40))
        self.assertIsNone(again.ask(timeout=30))
        record = self.wait_ended(again._stub, again.job_id)
        self.assertEqual(record.state, job_pb2.SUCCEEDED)
        self.assertEqual(record.progress.cache.hits, 40)
        self.assertEqual(self.history(again._stub, again.job_id), history)

    def test_a_lease_that_passes_is_suggested_again_and_bad_completions_change_nothing(self):
        server = self.start()
        study = client.Study(server.address, study_spec(budget=6, window=2), lease_seconds=0.5)
        stub = study._stub
        first = study.ask()
        second = study.ask()
        self.assertEqual((first.id, second.id), (0, 1))
        # The window (2) is leased out: nothing more to suggest now.
        self.assertIsNone(study.ask(timeout=0.1))

        def code_of(request):
            with self.assertRaises(grpc.RpcError) as caught:
                stub.CompleteTrial(request)
            return caught.exception.code(), caught.exception.details()

        missing = code_of(service_pb2.CompleteTrialRequest(job_id=study.job_id, trial_id=0,
                                                           values={"other": 1.0}))
        self.assertEqual(missing[0], grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(missing[1].startswith("values: no objective 'value'"), missing[1])
        nan = code_of(service_pb2.CompleteTrialRequest(job_id=study.job_id, trial_id=0,
                                                       values={"value": float("nan")}))
        self.assertEqual(nan[0], grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("not a finite number", nan[1])
        unknown = code_of(service_pb2.CompleteTrialRequest(job_id=study.job_id, trial_id=77,
                                                           values={"value": 1.0}))
        self.assertEqual(unknown[0], grpc.StatusCode.FAILED_PRECONDITION)
        self.assertTrue(unknown[1].startswith("trial_id: "), unknown[1])
        self.assertEqual(stub.GetJob(service_pb2.GetJobRequest(job_id=study.job_id))
                         .progress.evaluations, 0)

        # The client holding trial 0 dies: once its lease passes, another client gets trial 0.
        other = client.Study.attach(server.address, study.job_id, client_id="other")
        again = wait_for(lambda: other.ask(timeout=0.05), 10, "trial 0 to be suggested again")
        self.assertEqual(again.id, 0)
        self.assertEqual(again.params, first.params)
        other.tell(again, value_of(again.params))
        done = code_of(service_pb2.CompleteTrialRequest(job_id=study.job_id, trial_id=0,
                                                        values={"value": 1.0}))
        self.assertEqual(done[0], grpc.StatusCode.FAILED_PRECONDITION)
        # A failure is a FAILED trial; the search goes on.
        failed = study.tell(second, failure="out of memory")
        self.assertEqual(failed.status, job_pb2.FAILED)
        self.assertIn("out of memory", failed.error)
        run_clients(server.address, study.job_id)
        record = self.wait_ended(stub, study.job_id)
        self.assertEqual(record.state, job_pb2.SUCCEEDED)
        self.assertEqual(record.progress.evaluations, 6)
        # An ended study suggests nothing, and takes nothing.
        self.assertIsNone(other.ask(timeout=1))
        # Another domain's job has no trials to suggest.
        with self.assertRaises(grpc.RpcError) as caught:
            stub.SuggestTrials(service_pb2.SuggestTrialsRequest(job_id="nope"))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)
        with self.assertRaises(grpc.RpcError) as caught:
            stub.SuggestTrials(service_pb2.SuggestTrialsRequest(job_id=study.job_id,
                                                                lease_seconds=-1))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(caught.exception.details().startswith("lease_seconds"))

    def test_kill_9_with_trials_in_flight_resumes_them_and_gives_the_uninterrupted_history(self):
        extra = ["--checkpoint-seconds", "0.2"]
        reference = self.start(extra=extra)
        # The default strategy for one objective: the Gaussian-process search.
        spec = study_spec(objective="branin/crash", budget=30, seed=9, window=3)
        del spec["strategy"]
        ref = client.Study(reference.address, spec)
        run_clients(reference.address, ref.job_id)
        self.wait_ended(ref._stub, ref.job_id)
        expected = self.history(ref._stub, ref.job_id)
        self.assertEqual(len(expected), 30)
        reference.stop()

        data_dir = os.path.join(h.temp_dir("evolvd-study-crash-"), "data")
        server = self.start(data_dir=data_dir, extra=extra)
        spec["study"]["clients"]["objective"] = "branin/crash-2"  # nothing from the first store
        study = client.Study(server.address, spec)
        for _ in range(12):
            trial = study.ask(timeout=10)
            study.tell(trial, value_of(trial.params))
        held = [study.ask(timeout=10) for _ in range(3)]  # in flight when evolvd dies
        wait_for(lambda: study.record().progress.evaluations >= 12, 10, "a checkpoint")
        time.sleep(0.6)  # at least one checkpoint after the 12th result
        server.stop(signal.SIGKILL)
        server = self.start(data_dir=data_dir, extra=extra)
        resumed = client.Study.attach(server.address, study.job_id, client_id="after")
        # The trial held first is answered before the restarted evolvd suggests it again, as the
        # client that held it would; the other two are suggested again with their ids.
        resumed.tell(held[0], value_of(held[0].params))
        again = [resumed.ask(timeout=10) for _ in range(2)]
        self.assertEqual([t.id for t in again], [t.id for t in held[1:]])
        self.assertEqual([t.params for t in again], [t.params for t in held[1:]])
        for trial in again:
            resumed.tell(trial, value_of(trial.params))
        run_clients(server.address, study.job_id)
        record = self.wait_ended(resumed._stub, study.job_id)
        self.assertEqual(record.state, job_pb2.SUCCEEDED)
        self.assertEqual(self.history(resumed._stub, study.job_id), expected)

    def test_the_scikit_learn_example_tunes_a_model_through_evolvd(self):
        try:
            import sklearn  # noqa: F401
        except ImportError:
            self.skipTest("python3-sklearn is not installed (scripts/install-deps installs it)")
        server = self.start()
        env = dict(os.environ, PYTHONPATH=h.Paths.stubs)
        out = subprocess.run(
            [sys.executable, os.path.join(EXAMPLES, "study_sklearn.py"), "--server",
             server.address, "--trials", "12", "--clients", "2"],
            capture_output=True, text=True, env=env, timeout=300)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("best accuracy", out.stdout)
        accuracy = float(out.stdout.split("best accuracy")[1].split()[0])
        self.assertGreater(accuracy, 0.5)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + ARGS)
