"""evolvd end to end, with real processes on loopback ports chosen at run time.

Run by ctest (label "integration"):
  /usr/bin/python3 service_test.py --evolvd PATH --evolv PATH --stubs DIR [unittest args]
The stubs are generated from proto/ with Debian's protoc and grpc_python_plugin, which is
exactly how a Python client someone else writes would get them.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

import evolvd_harness as h
from evolvd_harness import Evolvd, numerics_spec, wait_for

ARGS = h.parse_args(sys.argv[1:])

import grpc  # noqa: E402  (Debian's python3-grpcio)
from google.protobuf import json_format  # noqa: E402
# numerics_pb2 also puts the numerics messages in the descriptor pool, which json_format needs to
# read the Any fields (JobSpec.problem, Candidate.value) of the server's JSON.
from evolv.v1 import job_pb2, numerics_pb2, service_pb2, service_pb2_grpc  # noqa: E402


def spec_message(**kwargs):
    """numerics_spec(**kwargs) as a JobSpec, its problem packed as an evolv.v1.NumericsSpec (the
    short form {"numerics": {...}} is the CLI's, which json_format does not read)."""
    spec = numerics_spec(**kwargs)
    numerics = spec.pop("numerics")
    message = json_format.ParseDict(spec, job_pb2.JobSpec())
    message.problem.Pack(json_format.ParseDict(numerics, numerics_pb2.NumericsSpec()))
    return message


class Base(unittest.TestCase):
    servers = []

    def start(self, workers=2, extra=(), data_dir=None):
        data_dir = data_dir or os.path.join(h.temp_dir("evolvd-it-"), "data")
        server = Evolvd(data_dir, workers=workers, extra=extra).start()
        self.servers.append(server)
        return server

    def tearDown(self):
        for server in self.servers:
            if server.proc and server.proc.poll() is None:
                server.proc.kill()
                server.proc.wait(timeout=10)
        self.servers.clear()

    @staticmethod
    def stub(server, token=None):
        channel = grpc.insecure_channel(server.address)
        grpc.channel_ready_future(channel).result(timeout=10)
        return service_pb2_grpc.SearchServiceStub(channel)

    def watch_to_end(self, stub, job_id, timeout=120):
        events = list(stub.WatchJob(service_pb2.WatchJobRequest(job_id=job_id), timeout=timeout))
        self.assertTrue(events, "WatchJob sent no event")
        return events

    def all_rows(self, stub, job_id):
        rows, token = [], ""
        while True:
            response = stub.QueryEvaluations(service_pb2.QueryEvaluationsRequest(
                job_id=job_id, page_size=1000, page_token=token))
            rows.extend(response.rows)
            token = response.next_page_token
            if not token:
                return rows


class EndToEnd(Base):
    def test_submit_watch_query_export_with_the_cli(self):
        server = self.start()
        spec_path = h.write_spec(h.temp_dir("spec-"), numerics_spec(name="e2e-cli", budget=300))
        submitted = server.cli("submit", spec_path)
        self.assertEqual(submitted.returncode, 0, submitted.stderr)
        job_id = submitted.stdout.strip()
        self.assertRegex(job_id, r"^j[0-9a-f]{16}$")

        watched = server.cli("watch", job_id)
        self.assertEqual(watched.returncode, 0, watched.stderr)
        self.assertIn("SUCCEEDED", watched.stdout)
        self.assertIn("300/300 evals", watched.stdout)
        self.assertIn("evals/s", watched.stderr)  # the progress lines

        status = server.cli("status", job_id, "--json")
        self.assertEqual(status.returncode, 0, status.stderr)
        record = json.loads(status.stdout)
        self.assertEqual(record["state"], "SUCCEEDED")
        self.assertEqual(int(record["progress"]["evaluations"]), 300)

        listed = server.cli("list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn(job_id, listed.stdout)

        stub = self.stub(server)
        top = stub.QueryEvaluations(service_pb2.QueryEvaluationsRequest(job_id=job_id, page_size=5))
        self.assertEqual(len(top.rows), 5)
        values = [r.evaluation.objectives[0] for r in top.rows]
        self.assertEqual(values, sorted(values))
        self.assertTrue(top.next_page_token)
        second = stub.QueryEvaluations(service_pb2.QueryEvaluationsRequest(
            job_id=job_id, page_size=5, page_token=top.next_page_token))
        self.assertGreaterEqual(second.rows[0].evaluation.objectives[0], values[-1])
        self.assertEqual(len(self.all_rows(stub, job_id)), 300)

        exported_c = server.cli("export", job_id, "--format", "c")
        self.assertEqual(exported_c.returncode, 0, exported_c.stderr)
        self.assertIn("return", exported_c.stdout)
        self.assertEqual(exported_c.stdout.strip(), top.rows[0].rendered.strip())
        exported_json = server.cli("export", job_id, "--format", "json")
        self.assertEqual(exported_json.returncode, 0, exported_json.stderr)
        row = json.loads(exported_json.stdout)
        self.assertEqual(row["key_hex"], top.rows[0].key_hex)
        best = server.cli("best", job_id)
        self.assertEqual(best.returncode, 0, best.stderr)
        self.assertIn(top.rows[0].rendered.strip().splitlines()[0], best.stdout)

        queried = server.cli("cache", "query", "--job", job_id, "--top", "3")
        self.assertEqual(queried.returncode, 0, queried.stderr)
        self.assertIn(top.rows[0].key_hex, queried.stdout)
        self.assertEqual(len(queried.stdout.strip().splitlines()), 4)
        got = server.cli("cache", "get", top.rows[0].key_hex)
        self.assertEqual(got.returncode, 0, got.stderr)
        cached = json.loads(got.stdout)
        self.assertEqual(cached["key_hex"], top.rows[0].key_hex)
        self.assertEqual(cached["cached"]["job_id"], job_id)

        by_key = stub.QueryEvaluations(service_pb2.QueryEvaluationsRequest(key=top.rows[0].key))
        self.assertEqual(by_key.rows[0].key_hex, top.rows[0].key_hex)
        problem = spec_message()
        by_problem = stub.QueryEvaluations(service_pb2.QueryEvaluationsRequest(
            problem=problem, page_size=3))
        # The cache holds each key once; the job's history may hold a key several times (hits).
        job_rows = stub.QueryEvaluations(service_pb2.QueryEvaluationsRequest(
            job_id=job_id, page_size=300)).rows
        distinct = []
        for r in job_rows:
            if r.key not in [d.key for d in distinct]:
                distinct.append(r)
        self.assertEqual([r.evaluation.objectives[0] for r in by_problem.rows],
                         [r.evaluation.objectives[0] for r in distinct[:3]])
        self.assertTrue({r.key for r in by_problem.rows} <= {r.key for r in job_rows})

        stats = stub.GetStats(service_pb2.GetStatsRequest())
        self.assertEqual(stats.overall.hits + stats.overall.misses, 300)
        self.assertEqual(stats.jobs[0].job_id, job_id)
        workers = stub.ListWorkers(service_pb2.ListWorkersRequest())
        self.assertEqual(len(workers.workers), 2)
        self.assertEqual(sum(w.evaluations for w in workers.workers), stats.overall.misses)

    def test_python_client_as_in_the_readme(self):
        server = self.start()
        channel = grpc.insecure_channel(server.address)
        stub = service_pb2_grpc.SearchServiceStub(channel)
        spec = job_pb2.JobSpec(name="from python", seed=7, window=8)
        spec.problem.Pack(numerics_pb2.NumericsSpec(target="exp2", lower=0.0, upper=1.0,
                                                    max_ops=6, fit_points=16))
        spec.strategy.nsga2.parents = 20
        spec.strategy.nsga2.children = 20
        spec.budget.max_evaluations = 200
        job = stub.SubmitJob(service_pb2.SubmitJobRequest(spec=spec))
        self.assertEqual(job.state, job_pb2.RUNNING)
        events = list(stub.WatchJob(service_pb2.WatchJobRequest(job_id=job.id), timeout=120))
        self.assertEqual(events[-1].state, job_pb2.SUCCEEDED)
        self.assertEqual(events[-1].progress.evaluations, 200)
        counts = [e.progress.evaluations for e in events]
        self.assertEqual(counts, sorted(counts))
        final = stub.GetJob(service_pb2.GetJobRequest(job_id=job.id))
        self.assertEqual(final.state, job_pb2.SUCCEEDED)
        page = stub.ListJobs(service_pb2.ListJobsRequest(states=[job_pb2.SUCCEEDED]))
        self.assertEqual([j.id for j in page.jobs], [job.id])

    def test_list_jobs_pages_and_filters(self):
        server = self.start(workers=1)
        stub = self.stub(server)
        ids = [stub.SubmitJob(service_pb2.SubmitJobRequest(
            spec=spec_message(name="p%d" % i, budget=100000))).id for i in range(5)]
        self.assertEqual(len(set(ids)), 5)  # identical specs make distinct jobs
        stub.PauseJob(service_pb2.PauseJobRequest(job_id=ids[1]))
        seen, token = [], ""
        while True:
            page = stub.ListJobs(service_pb2.ListJobsRequest(page_size=2, page_token=token))
            self.assertEqual(page.total_size, 5)
            seen += [j.id for j in page.jobs]
            token = page.next_page_token
            if not token:
                break
        self.assertEqual(seen, ids)
        paused = stub.ListJobs(service_pb2.ListJobsRequest(states=[job_pb2.PAUSED]))
        self.assertEqual([j.id for j in paused.jobs], [ids[1]])
        for job_id in ids:
            stub.CancelJob(service_pb2.CancelJobRequest(job_id=job_id))


class Lifecycle(Base):
    def test_pause_resume_cancel_and_states_survive_restart(self):
        data_dir = os.path.join(h.temp_dir("evolvd-life-"), "data")
        server = self.start(data_dir=data_dir)
        stub = self.stub(server)
        a = stub.SubmitJob(service_pb2.SubmitJobRequest(spec=spec_message(name="a", budget=100000)))
        b = stub.SubmitJob(service_pb2.SubmitJobRequest(spec=spec_message(name="b", budget=100000)))
        wait_for(lambda: stub.GetJob(service_pb2.GetJobRequest(job_id=a.id)).progress.evaluations
                 > 20, 60, "job a to make progress")
        paused = stub.PauseJob(service_pb2.PauseJobRequest(job_id=a.id))
        self.assertEqual(paused.state, job_pb2.PAUSED)
        at_pause = paused.progress.evaluations
        time.sleep(1.0)
        self.assertEqual(stub.GetJob(service_pb2.GetJobRequest(job_id=a.id)).progress.evaluations,
                         at_pause)
        self.assertEqual(stub.PauseJob(service_pb2.PauseJobRequest(job_id=a.id)).state,
                         job_pb2.PAUSED)  # idempotent
        resumed = stub.ResumeJob(service_pb2.ResumeJobRequest(job_id=a.id))
        self.assertEqual(resumed.state, job_pb2.RUNNING)
        wait_for(lambda: stub.GetJob(service_pb2.GetJobRequest(job_id=a.id)).progress.evaluations
                 > at_pause, 60, "job a to continue after resume")
        self.assertEqual(stub.PauseJob(service_pb2.PauseJobRequest(job_id=a.id)).state,
                         job_pb2.PAUSED)
        cancelled = stub.CancelJob(service_pb2.CancelJobRequest(job_id=b.id))
        self.assertEqual(cancelled.state, job_pb2.CANCELLED)
        a_evals = stub.GetJob(service_pb2.GetJobRequest(job_id=a.id)).progress.evaluations

        self.assertEqual(server.stop(signal.SIGTERM), 0)
        server = self.start(data_dir=data_dir)
        stub = self.stub(server)
        a2 = stub.GetJob(service_pb2.GetJobRequest(job_id=a.id))
        self.assertEqual(a2.state, job_pb2.PAUSED)
        time.sleep(0.5)
        self.assertEqual(stub.GetJob(service_pb2.GetJobRequest(job_id=a.id)).progress.evaluations,
                         a_evals)
        self.assertEqual(stub.GetJob(service_pb2.GetJobRequest(job_id=b.id)).state,
                         job_pb2.CANCELLED)
        stub.CancelJob(service_pb2.CancelJobRequest(job_id=a.id))

    def test_sigterm_checkpoints_and_running_jobs_resume(self):
        data_dir = os.path.join(h.temp_dir("evolvd-term-"), "data")
        server = self.start(data_dir=data_dir)
        stub = self.stub(server)
        job = stub.SubmitJob(service_pb2.SubmitJobRequest(
            spec=spec_message(budget=20000, validation_points=40000)))
        wait_for(lambda: stub.GetJob(service_pb2.GetJobRequest(job_id=job.id)).progress.evaluations
                 > 50, 60, "progress", interval=0.01)
        self.assertEqual(server.stop(signal.SIGINT), 0)
        server = self.start(data_dir=data_dir)
        stub = self.stub(server)
        record = stub.GetJob(service_pb2.GetJobRequest(job_id=job.id))
        self.assertEqual(record.state, job_pb2.RUNNING)
        self.assertGreater(record.progress.evaluations, 50)  # from the shutdown checkpoint
        events = self.watch_to_end(stub, job.id)
        self.assertEqual(events[-1].state, job_pb2.SUCCEEDED)
        self.assertEqual(events[-1].progress.evaluations, 20000)


class Crash(Base):
    def history(self, stub, job_id):
        rows = self.all_rows(stub, job_id)
        return sorted((r.index, r.key_hex, tuple(r.evaluation.objectives)) for r in rows)

    def test_sigkill_mid_search_then_restart_gives_the_uninterrupted_result(self):
        spec = spec_message(name="crash", budget=12000, seed=11, validation_points=40000)
        extra = ["--checkpoint-results", "500", "--checkpoint-seconds", "60"]

        reference = self.start(extra=extra)
        ref_stub = self.stub(reference)
        ref_job = ref_stub.SubmitJob(service_pb2.SubmitJobRequest(spec=spec))
        ref_events = self.watch_to_end(ref_stub, ref_job.id)
        self.assertEqual(ref_events[-1].state, job_pb2.SUCCEEDED)
        expected = self.history(ref_stub, ref_job.id)
        reference.stop()

        data_dir = os.path.join(h.temp_dir("evolvd-crash-"), "data")
        server = self.start(data_dir=data_dir, extra=extra)
        stub = self.stub(server)
        job = stub.SubmitJob(service_pb2.SubmitJobRequest(spec=spec))
        at_kill = wait_for(
            lambda: (lambda n: n if 3000 < n < 9000 else None)(
                stub.GetJob(service_pb2.GetJobRequest(job_id=job.id)).progress.evaluations),
            60, "the job to be mid-search", interval=0.01)
        server.stop(signal.SIGKILL)
        server = self.start(data_dir=data_dir, extra=extra)
        stub = self.stub(server)
        resumed_at = stub.GetJob(service_pb2.GetJobRequest(job_id=job.id)).progress.evaluations
        # kill -9 loses at most the results since the last checkpoint (every 500 results).
        self.assertGreaterEqual(resumed_at, at_kill - 500 - 8)
        self.assertLess(resumed_at, 12000)
        events = self.watch_to_end(stub, job.id)
        self.assertEqual(events[-1].state, job_pb2.SUCCEEDED)
        self.assertEqual(self.history(stub, job.id), expected)
        best = stub.QueryEvaluations(service_pb2.QueryEvaluationsRequest(job_id=job.id, page_size=1))
        ref_best = ref_events[-1].progress.best_objective
        self.assertEqual(best.rows[0].evaluation.objectives[0], ref_best)


class Restart(Base):
    def test_restart_with_100_submitted_jobs_keeps_each_once(self):
        data_dir = os.path.join(h.temp_dir("evolvd-100-"), "data")
        server = self.start(data_dir=data_dir, workers=1)
        stub = self.stub(server)
        ids = [stub.SubmitJob(service_pb2.SubmitJobRequest(
            spec=spec_message(name="job %d" % i, budget=100000))).id for i in range(100)]
        self.assertEqual(len(set(ids)), 100)
        self.assertEqual(server.stop(signal.SIGTERM, timeout=120), 0)
        server = self.start(data_dir=data_dir, workers=1)
        stub = self.stub(server)
        listed = stub.ListJobs(service_pb2.ListJobsRequest(page_size=1000))
        self.assertEqual(listed.total_size, 100)
        self.assertEqual(sorted(j.id for j in listed.jobs), sorted(ids))
        self.assertEqual(sorted(j.spec.name for j in listed.jobs),
                         sorted("job %d" % i for i in range(100)))
        self.assertTrue(all(j.state == job_pb2.RUNNING for j in listed.jobs))
        self.assertEqual(server.stop(signal.SIGTERM, timeout=120), 0)


class Errors(Base):
    def assertCode(self, code, call, *args, field=None):
        with self.assertRaises(grpc.RpcError) as raised:
            call(*args)
        self.assertEqual(raised.exception.code(), code, raised.exception.details())
        if field:
            self.assertTrue(raised.exception.details().startswith(field),
                            raised.exception.details())
        return raised.exception

    def test_every_error_case_and_no_bad_request_changes_state(self):
        server = self.start()
        stub = self.stub(server)
        done = stub.SubmitJob(service_pb2.SubmitJobRequest(spec=spec_message(budget=100)))
        self.watch_to_end(stub, done.id)
        before = stub.ListJobs(service_pb2.ListJobsRequest())
        INVALID = grpc.StatusCode.INVALID_ARGUMENT

        zero_budget = spec_message()
        zero_budget.budget.max_evaluations = 0
        self.assertCode(INVALID, stub.SubmitJob, service_pb2.SubmitJobRequest(spec=zero_budget),
                        field="budget")
        big_window = spec_message(window=5000)
        self.assertCode(INVALID, stub.SubmitJob, service_pb2.SubmitJobRequest(spec=big_window),
                        field="window")
        long_name = spec_message(name="x" * 300)
        self.assertCode(INVALID, stub.SubmitJob, service_pb2.SubmitJobRequest(spec=long_name),
                        field="name")
        no_problem = spec_message()
        no_problem.ClearField("problem")
        self.assertCode(INVALID, stub.SubmitJob, service_pb2.SubmitJobRequest(spec=no_problem))
        self.assertCode(INVALID, stub.SubmitJob, service_pb2.SubmitJobRequest(), field="spec")
        self.assertCode(INVALID, stub.GetJob, service_pb2.GetJobRequest(job_id=""),
                        field="job_id")
        self.assertCode(INVALID, stub.ListJobs, service_pb2.ListJobsRequest(page_token="zz"),
                        field="page_token")
        self.assertCode(INVALID, stub.ListJobs, service_pb2.ListJobsRequest(page_size=5000),
                        field="page_size")
        self.assertCode(INVALID, stub.GetEvaluation, service_pb2.GetEvaluationRequest(key=b"abc"),
                        field="key")
        self.assertCode(INVALID, stub.QueryEvaluations, service_pb2.QueryEvaluationsRequest(),
                        field="selector")
        self.assertCode(INVALID, stub.QueryEvaluations, service_pb2.QueryEvaluationsRequest(
            job_id=done.id, objective_index=-1), field="objective_index")

        NOT_FOUND = grpc.StatusCode.NOT_FOUND
        for call, request in [(stub.GetJob, service_pb2.GetJobRequest(job_id="jnope")),
                              (stub.CancelJob, service_pb2.CancelJobRequest(job_id="jnope")),
                              (stub.PauseJob, service_pb2.PauseJobRequest(job_id="jnope")),
                              (stub.ResumeJob, service_pb2.ResumeJobRequest(job_id="jnope")),
                              (stub.GetStats, service_pb2.GetStatsRequest(job_id="jnope")),
                              (stub.QueryEvaluations,
                               service_pb2.QueryEvaluationsRequest(job_id="jnope")),
                              (stub.GetEvaluation,
                               service_pb2.GetEvaluationRequest(key=b"\0" * 16))]:
            self.assertCode(NOT_FOUND, call, request)
        error = self.assertCode(NOT_FOUND, lambda r: list(stub.WatchJob(r, timeout=10)),
                                service_pb2.WatchJobRequest(job_id="jnope"))

        PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
        self.assertCode(PRECONDITION, stub.CancelJob, service_pb2.CancelJobRequest(job_id=done.id))
        self.assertCode(PRECONDITION, stub.PauseJob, service_pb2.PauseJobRequest(job_id=done.id))
        self.assertCode(PRECONDITION, stub.ResumeJob, service_pb2.ResumeJobRequest(job_id=done.id))

        huge = spec_message(name="y" * (2 << 20))
        self.assertCode(grpc.StatusCode.RESOURCE_EXHAUSTED, stub.SubmitJob,
                        service_pb2.SubmitJobRequest(spec=huge))

        after = stub.ListJobs(service_pb2.ListJobsRequest())
        self.assertEqual(after, before)
        del error

    def test_unknown_fields_and_strings_that_are_not_utf8_are_refused_and_not_stored(self):
        server = self.start()
        stub = self.stub(server)
        before = stub.ListJobs(service_pb2.ListJobsRequest())
        INVALID = grpc.StatusCode.INVALID_ARGUMENT

        def varint(n):
            out = b""
            while True:
                low, n = n & 0x7F, n >> 7
                out += bytes([low | 0x80 if n else low])
                if not n:
                    return out

        def field(number, payload):  # a length-delimited field on the wire
            return varint(number << 3 | 2) + varint(len(payload)) + payload

        padding = b"x" * 100_000
        good = spec_message(budget=10)
        unknown = job_pb2.JobSpec.FromString(good.SerializeToString() + field(99, padding))
        self.assertCode(INVALID, stub.SubmitJob, service_pb2.SubmitJobRequest(spec=unknown),
                        field="spec: unknown field 99")
        packed_unknown = spec_message(budget=10)
        packed_unknown.problem.value += field(99, padding)
        self.assertCode(INVALID, stub.SubmitJob,
                        service_pb2.SubmitJobRequest(spec=packed_unknown),
                        field="problem: unknown field 99 (not in evolv.v1.NumericsSpec")
        # The problem's packed bytes reach evolv's validation, which names the string field.
        packed_bad = spec_message(budget=10)
        packed_bad.problem.value += field(1, b"exp\xff")
        self.assertCode(INVALID, stub.SubmitJob, service_pb2.SubmitJobRequest(spec=packed_bad),
                        field="problem.target: not valid UTF-8")
        # A top-level string that is not UTF-8 is refused by gRPC's parser before evolvd's code
        # runs: INTERNAL with an empty message (docs/service.md, "Errors").
        channel = grpc.insecure_channel(server.address)
        raw_submit = channel.unary_unary("/evolv.v1.SearchService/SubmitJob",
                                         response_deserializer=job_pb2.JobRecord.FromString)
        bad_name = field(1, good.SerializeToString() + field(1, b"bad\xff"))
        self.assertCode(grpc.StatusCode.INTERNAL, raw_submit, bad_name)

        self.assertEqual(stub.ListJobs(service_pb2.ListJobsRequest()), before)
        self.assertIsNone(server.proc.poll(), "evolvd exited")

    def test_cli_exit_codes(self):
        server = self.start()
        tmp = h.temp_dir("cli-")
        bad = os.path.join(tmp, "bad.json")
        with open(bad, "w") as f:
            f.write("{ not json")
        self.assertEqual(server.cli("submit", bad).returncode, 2)
        invalid = h.write_spec(tmp, dict(numerics_spec(), budget={}), "invalid.json")
        result = server.cli("submit", invalid)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("budget", result.stderr)
        self.assertEqual(server.cli("status", "jnope").returncode, 1)
        self.assertEqual(server.cli("frobnicate").returncode, 2)
        self.assertEqual(server.cli("list", env={"EVOLV_SERVER": "127.0.0.1:1"}).returncode, 1)
        self.assertEqual(server.cli("list", "--server", server.address).returncode, 0)


class Auth(Base):
    def test_without_the_token_every_rpc_is_unauthenticated(self):
        tmp = h.temp_dir("auth-")
        token_file = os.path.join(tmp, "token")
        with open(token_file, "w") as f:
            f.write("s3cret-token\n")
        server = self.start(extra=["--auth-token-file", token_file])
        stub = self.stub(server)
        calls = [
            (stub.SubmitJob, service_pb2.SubmitJobRequest(spec=spec_message())),
            (stub.GetJob, service_pb2.GetJobRequest(job_id="j1")),
            (stub.ListJobs, service_pb2.ListJobsRequest()),
            (stub.CancelJob, service_pb2.CancelJobRequest(job_id="j1")),
            (stub.PauseJob, service_pb2.PauseJobRequest(job_id="j1")),
            (stub.ResumeJob, service_pb2.ResumeJobRequest(job_id="j1")),
            (lambda r, **kw: list(stub.WatchJob(r, **kw)), service_pb2.WatchJobRequest(job_id="j1")),
            (stub.QueryEvaluations, service_pb2.QueryEvaluationsRequest(job_id="j1")),
            (stub.GetEvaluation, service_pb2.GetEvaluationRequest(key=b"\0" * 16)),
            (stub.ListWorkers, service_pb2.ListWorkersRequest()),
            (stub.GetStats, service_pb2.GetStatsRequest()),
        ]
        for call, request in calls:
            for metadata in [None, [("authorization", "Bearer wrong")]]:
                with self.assertRaises(grpc.RpcError) as raised:
                    call(request, metadata=metadata, timeout=10)
                self.assertEqual(raised.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        good = [("authorization", "Bearer s3cret-token")]
        self.assertEqual(stub.ListJobs(service_pb2.ListJobsRequest(), metadata=good).total_size, 0)
        self.assertEqual(server.cli("list").returncode, 1)
        self.assertEqual(server.cli("list", env={"EVOLV_TOKEN": "s3cret-token"}).returncode, 0)
        self.assertEqual(server.cli("list", "--token-file", token_file).returncode, 0)


class Http(Base):
    def test_api_metrics_healthz_and_escaping(self):
        server = self.start()
        stub = self.stub(server)
        job = stub.SubmitJob(service_pb2.SubmitJobRequest(
            spec=spec_message(name="<script>alert(1)</script>", budget=200)))
        self.watch_to_end(stub, job.id)
        status, body = server.http_get("/healthz")
        self.assertEqual((status, body.strip()), (200, "ok"))
        status, body = server.http_get("/api/jobs")
        jobs = json_format.Parse(body, service_pb2.ListJobsResponse())
        self.assertEqual(jobs.jobs[0].spec.name, "<script>alert(1)</script>")
        self.assertNotIn("<script>", body)  # JSON escapes < and >
        _, body = server.http_get("/api/jobs/%s/detail" % job.id)
        detail = json_format.Parse(body, service_pb2.JobDetail())
        self.assertGreater(len(detail.best_curve), 1)
        self.assertGreater(len(detail.pareto_front), 0)
        self.assertIn("return", detail.best.rendered)
        _, body = server.http_get("/metrics")
        self.assertIn('evolv_jobs{state="SUCCEEDED"} 1', body)
        self.assertIn("evolv_evaluations_total 200", body)
        self.assertIn("evolv_evaluation_seconds_bucket", body)
        self.assertIn("evolv_workers 2", body)
        self.assertIn("evolv_queue_depth 0", body)  # nothing waits once the job has ended
        _, page = server.http_get("/")
        self.assertIn("/app.js", page)
        # Chart.js, embedded at build time from Debian's libjs-chart.js: the page needs no CDN.
        self.assertIn('<script src="/vendor/chart.min.js">', page)
        _, chart_js = server.http_get("/vendor/chart.min.js")
        self.assertIn("Chart.js v3", chart_js[:200])
        with self.assertRaises(Exception) as raised:
            server.http_get("/api/jobs/jnope")
        self.assertEqual(getattr(raised.exception, "code", None), 404)


class Cluster(Base):
    """evolv-worker processes joining evolvd over CAF's middleman (no local workers)."""

    def start_cluster(self, data_dir=None, cluster_port=0):
        directory = h.temp_dir("evolvd-cluster-")
        self.secret = os.path.join(directory, "secret")
        with open(self.secret, "w") as f:
            f.write("cluster test secret\n")
        return self.start(workers=0, data_dir=data_dir, extra=[
            "--cluster-port", str(cluster_port), "--cluster-secret-file", self.secret,
            "--checkpoint-results", "100"])

    def start_worker(self, server, port=None, extra=()):
        with open(os.path.join(h.temp_dir("evolv-worker-"), "worker.log"), "w") as log:
            proc = subprocess.Popen(
                [h.Paths.evolv_worker, "--connect",
                 "127.0.0.1:%d" % (port or server.cluster_port), "--secret-file", self.secret]
                + list(extra), stdout=log, stderr=subprocess.STDOUT)
        h._children.append(proc)
        return proc

    def start_cuda_worker(self, server, stub):
        """Starts `evolv-worker --device cuda:0` and waits until it joins or exits (on a machine
        or build without CUDA it exits 2); returns the process and what it printed so far."""
        log_path = os.path.join(h.temp_dir("evolv-worker-cuda-"), "worker.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [h.Paths.evolv_worker, "--connect", "127.0.0.1:%d" % server.cluster_port,
                 "--secret-file", self.secret, "--device", "cuda:0"],
                stdout=log, stderr=subprocess.STDOUT)
        h._children.append(proc)
        deadline = time.time() + 30
        while time.time() < deadline and proc.poll() is None and not self.workers(stub):
            time.sleep(0.05)
        with open(log_path) as f:
            return proc, f.read()

    def workers(self, stub):
        return stub.ListWorkers(service_pb2.ListWorkersRequest()).workers

    def test_two_remote_workers_run_a_job_and_every_evaluation_names_its_worker(self):
        server = self.start_cluster()
        stub = self.stub(server)
        self.start_worker(server)
        self.start_worker(server)
        wait_for(lambda: len(self.workers(stub)) == 2, 30, "two workers to join")
        job = stub.SubmitJob(service_pb2.SubmitJobRequest(spec=spec_message(name="remote",
                                                                             budget=600)))
        events = self.watch_to_end(stub, job.id)
        self.assertEqual(events[-1].state, job_pb2.SUCCEEDED)
        workers = self.workers(stub)
        ids = {w.info.id for w in workers}
        self.assertEqual(len(ids), 2)
        for w in workers:
            self.assertEqual(w.info.device, "cpu")
            self.assertEqual(w.info.slots, 1)
            self.assertTrue(w.info.host)
            self.assertGreater(w.last_seen_unix_ms, 0)
        rows = self.all_rows(stub, job.id)
        self.assertEqual(len(rows), 600)
        self.assertTrue(all(r.evaluation.worker in ids for r in rows))
        stats = stub.GetStats(service_pb2.GetStatsRequest())
        self.assertEqual(sum(w.evaluations for w in workers), stats.overall.misses)

    def test_device_is_checked_before_joining_and_a_cuda_worker_names_its_device(self):
        """A malformed --device or --max-batch, or cuda:K on a build without CUDA or a machine
        without device K, exits 2 saying why before the worker joins; where the device is there, the worker joins
        and ListWorkers names it (name, memory, compute capability read from the CUDA runtime)."""
        for bad in [["--max-batch", "0"], ["--max-batch", "1025"]]:
            out = subprocess.run([h.Paths.evolv_worker, "--connect", "127.0.0.1:1"] + bad,
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 2, bad)
            self.assertIn("--max-batch", out.stderr, bad)
        for bad in ["gpu:0", "cuda:", "cuda:-1", "cuda:x", "cuda:0x1", "cuda:99999"]:
            out = subprocess.run([h.Paths.evolv_worker, "--connect", "127.0.0.1:1", "--device",
                                  bad], capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 2, bad)
            self.assertIn("--device: expected cpu or cuda:K", out.stderr, bad)
        server = self.start_cluster()
        stub = self.stub(server)
        proc, said = self.start_cuda_worker(server, stub)
        if proc.poll() is not None:
            self.assertEqual(proc.returncode, 2, said)
            reasons = ["this build has no CUDA support", "no usable CUDA driver",
                       "no CUDA device 0"]  # evaluators/common/cuda_devices.cc
            self.assertTrue(any(r in said for r in reasons), said)
            if os.path.exists("/dev/nvidia0"):  # a GPU is here: only a CPU-only build may refuse
                self.assertIn("this build has no CUDA support", said)
            self.assertEqual(len(self.workers(stub)), 0)
            return
        workers = self.workers(stub)
        self.assertEqual(len(workers), 1, said)
        info = workers[0].info
        self.assertEqual(info.device, "cuda:0")
        self.assertTrue(info.device_name)
        self.assertGreater(info.device_memory_bytes, 0)
        self.assertRegex(info.compute_capability, r"^[0-9]+\.[0-9]+$")

    def test_every_float_verification_runs_on_the_workers_device_and_rows_name_it(self):
        """A FLOAT32 job with verify_every_float: each evaluation's error is its program's worst
        float of the interval. A worker started with --device cuda:0 runs that check on the GPU
        where this machine has one (else the job runs on a CPU worker), and every evaluation row
        names the device it ran on."""
        server = self.start_cluster()
        stub = self.stub(server)
        proc, _ = self.start_cuda_worker(server, stub)
        gpu = proc.poll() is None
        if not gpu:  # and a batch size of its own: the job's rows must not depend on it
            self.start_worker(server, extra=["--max-batch", "3"])
        wait_for(lambda: len(self.workers(stub)) == 1, 30, "the worker to join")
        info = self.workers(stub)[0].info
        self.assertEqual(info.max_batch, 64 if gpu else 3)
        label = "cuda:0 " + info.device_name if gpu else "cpu"
        spec = spec_message(name="every-float", budget=30, max_ops=4)
        numerics = numerics_pb2.NumericsSpec()
        spec.problem.Unpack(numerics)
        numerics.mode = numerics_pb2.FLOAT32
        numerics.lower, numerics.upper = 0.5, 0.5078125  # 2^16 floats: quick on a CPU too
        numerics.verify_every_float = True
        spec.problem.Pack(numerics)
        job = stub.SubmitJob(service_pb2.SubmitJobRequest(spec=spec))
        events = self.watch_to_end(stub, job.id)
        self.assertEqual(events[-1].state, job_pb2.SUCCEEDED)
        rows = self.all_rows(stub, job.id)
        self.assertEqual(len(rows), 30)
        ok = [r for r in rows if r.evaluation.status == job_pb2.OK]
        self.assertTrue(ok)
        ran = [r for r in rows if r.evaluation.worker]  # not those refused before a worker
        self.assertGreaterEqual(len(ran), len(ok))
        for r in ran:
            self.assertEqual(r.evaluation.device, label)
        for r in ok:
            metrics = r.evaluation.metrics
            self.assertEqual(metrics["every_float_on_device"], 1 if gpu else 0)
            self.assertEqual(metrics["refined_on_device"], 1 if gpu else 0)
            self.assertGreaterEqual(metrics["max_ulp"], metrics["validation_max_ulp"])
            self.assertTrue(0.5 <= metrics["worst_x"] <= 0.5078125)

    def test_a_learned_denoiser_runs_on_the_workers_device_and_rows_name_it(self):
        """A diffusion job with a learned denoiser: a worker started with --device cuda:0 runs
        every denoiser call of its sampler on the GPU where this machine has one (metric
        denoiser_on_device 1; else the job runs on a CPU worker, 0), and every evaluation row
        names the device it ran on."""
        tmp = h.temp_dir("denoiser-on-device-")
        model = os.path.join(tmp, "tiny.model")
        spec_path = h.write_spec(tmp, {
            "name": "denoiser-on-device",
            "diffusion": {"mixture": {"dimension": 4, "components": 3, "seed": 2},
                          "steps": 4, "samples": 200,
                          "denoiser": {"model": model, "blocks": 3, "width": 16,
                                       "training_steps": 200, "batch": 64,
                                       "learning_rate": 0.003, "seed": 5}},
            "strategy": {"top_k_evolution": {"population": 8, "top_k": 4, "mutants": 4,
                                             "crossovers": 2, "initial_random": 4,
                                             "generations": 2}},
            "budget": {"max_evaluations": 12}, "seed": 1, "window": 4})
        trained = subprocess.run([h.Paths.evolv, "train-denoiser", spec_path],
                                 capture_output=True, text=True, timeout=120)
        self.assertEqual(trained.returncode, 0, trained.stderr)
        server = self.start_cluster()
        stub = self.stub(server)
        proc, _ = self.start_cuda_worker(server, stub)
        gpu = proc.poll() is None
        if not gpu:
            self.start_worker(server)
        wait_for(lambda: len(self.workers(stub)) == 1, 30, "the worker to join")
        info = self.workers(stub)[0].info
        label = "cuda:0 " + info.device_name if gpu else "cpu"
        submitted = server.cli("submit", spec_path)
        self.assertEqual(submitted.returncode, 0, submitted.stderr)
        job_id = submitted.stdout.strip()
        events = self.watch_to_end(stub, job_id)
        self.assertEqual(events[-1].state, job_pb2.SUCCEEDED)
        rows = self.all_rows(stub, job_id)
        self.assertEqual(len(rows), 12)
        ok = [r for r in rows if r.evaluation.status == job_pb2.OK]
        self.assertTrue(ok)
        for r in ok:
            self.assertEqual(r.evaluation.device, label)
            self.assertEqual(r.evaluation.metrics["denoiser_on_device"], 1 if gpu else 0)

    def test_a_job_timed_on_a_gpu_model_runs_only_on_workers_on_it(self):
        """A scaling job whose runtimes are measured on one GPU model (timing.device "cuda")
        requires workers on that device: a CPU worker that has joined runs none of its
        evaluations, and `evolv run` of it with only local workers exits 2 naming the device."""
        tmp = h.temp_dir("gpu-bound-")
        spec_path = h.write_spec(tmp, {
            "name": "timed-on-a-gpu",
            "scaling": {"flops_factors": [2],
                        "data": {"directory": "/usr/share/datasets/fashion-mnist",
                                 "train_images": 100, "test_images": 100},
                        "timing": {"device": "cuda", "device_name": "No Such GPU 9000"}},
            "strategy": {"nsga2": {"parents": 2, "children": 2}},
            "budget": {"max_evaluations": 2}, "seed": 1, "window": 2})
        out = subprocess.run([h.Paths.evolv, "run", spec_path, "--data-dir",
                              os.path.join(tmp, "run-data"), "--workers", "1"],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn('CUDA device "No Such GPU 9000"', out.stderr)
        server = self.start_cluster()
        stub = self.stub(server)
        self.start_worker(server)
        wait_for(lambda: len(self.workers(stub)) == 1, 30, "the worker to join")
        submitted = server.cli("submit", spec_path)
        self.assertEqual(submitted.returncode, 0, submitted.stderr)
        job_id = submitted.stdout.strip()
        time.sleep(3)  # long enough for a free worker to have started its evaluations
        job = stub.GetJob(service_pb2.GetJobRequest(job_id=job_id))
        self.assertEqual(job.state, job_pb2.RUNNING)
        self.assertEqual(job.progress.evaluations, 0)
        self.assertEqual(self.workers(stub)[0].evaluations, 0)
        self.assertEqual(self.workers(stub)[0].busy, 0)

    def test_workers_reconnect_when_evolvd_restarts(self):
        data_dir = os.path.join(h.temp_dir("evolvd-cluster-restart-"), "data")
        server = self.start_cluster(data_dir=data_dir)
        port = server.cluster_port
        stub = self.stub(server)
        self.start_worker(server)
        self.start_worker(server)
        wait_for(lambda: len(self.workers(stub)) == 2, 30, "two workers to join")
        job = stub.SubmitJob(service_pb2.SubmitJobRequest(spec=spec_message(name="restart",
                                                                             budget=6000)))
        wait_for(lambda: stub.GetJob(service_pb2.GetJobRequest(job_id=job.id))
                 .progress.evaluations > 500, 60, "progress", interval=0.01)
        server.stop(signal.SIGKILL)
        server = self.start_cluster(data_dir=data_dir, cluster_port=port)
        self.assertEqual(server.cluster_port, port)
        stub = self.stub(server)
        wait_for(lambda: len(self.workers(stub)) == 2, 30, "the workers to reconnect")
        events = self.watch_to_end(stub, job.id)
        self.assertEqual(events[-1].state, job_pb2.SUCCEEDED)
        self.assertEqual(events[-1].progress.evaluations, 6000)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + ARGS, verbosity=2)
