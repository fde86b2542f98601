"""A study evaluated by its clients: ask evolvd for trials, evaluate them here, tell the results.

    from evolv.study import Study
    study = Study("127.0.0.1:50051", {
        "name": "svm", "budget": {"max_evaluations": 50}, "seed": 1,
        "study": {"parameters": [{"name": "C", "real": {"low": 1e-3, "high": 1e3, "log": True}}],
                  "objectives": [{"name": "accuracy", "direction": "MAXIMIZE"}],
                  "clients": {"objective": "svm-accuracy/v1"}}})
    while (trial := study.ask()) is not None:
        study.tell(trial, accuracy_of(**trial.params))
    print(study.best())

Several clients work on one study at once: each builds Study.attach(server, job_id). A trial is
leased to the client that asked for it (lease_seconds); one not told by then is suggested again to
another client. Errors are grpc.RpcError with the server's status (INVALID_ARGUMENT naming the
field, FAILED_PRECONDITION for a trial that is not waiting for a result, ...).

Needs Debian's python3-grpcio and python3-protobuf, and the stubs generated from proto/ (the build
puts this package with them in build/python; put that directory on PYTHONPATH).
"""
import json
import os
import socket
import time

import grpc
from google.protobuf import json_format

from evolv.v1 import job_pb2, service_pb2, service_pb2_grpc, study_pb2


# States of a study that suggests no more trials; ask() waits through the others (a paused study
# suggests its trials again once resumed).
ENDED = (job_pb2.SUCCEEDED, job_pb2.FAILED_STATE, job_pb2.CANCELLED)


class Trial:
    """One configuration to evaluate: `params` maps each parameter's name to its value (a float,
    an int or a choice's name), `id` is its index in the study's history."""

    def __init__(self, message):
        self.id = message.trial_id
        self.job_id = message.job_id
        self.params = json.loads(message.parameters_json)
        self.lease_deadline = message.lease_deadline_unix_ms / 1000.0

    def __repr__(self):
        return "Trial(id=%d, params=%r)" % (self.id, self.params)


def job_spec(spec):
    """A JobSpec from a JobSpec, or from a dict in the form of evolv's JSON specs: JobSpec fields
    and the study under "study" (a StudySpec's JSON)."""
    if isinstance(spec, job_pb2.JobSpec):
        return spec
    spec = dict(spec)
    study = spec.pop("study", None)
    if study is None:
        raise ValueError('spec: needs "study", the StudySpec')
    message = json_format.ParseDict(spec, job_pb2.JobSpec())
    message.problem.Pack(json_format.ParseDict(study, study_pb2.StudySpec()))
    return message


class Study:
    """A study on an evolvd: a new one from `spec` (submitted at once), or an existing one with
    Study.attach."""

    def __init__(self, server, spec=None, *, job_id=None, client_id=None, token=None,
                 lease_seconds=600.0, channel=None):
        self._channel = channel or grpc.insecure_channel(server)
        self._stub = service_pb2_grpc.SearchServiceStub(self._channel)
        self._metadata = (("authorization", "Bearer " + token),) if token else None
        self.client_id = client_id or "%s-%d" % (socket.gethostname(), os.getpid())
        self.lease_seconds = lease_seconds
        if job_id is None:
            if spec is None:
                raise ValueError("Study needs a spec or a job_id")
            record = self._stub.SubmitJob(service_pb2.SubmitJobRequest(spec=job_spec(spec)),
                                          metadata=self._metadata)
            job_id = record.id
        self.job_id = job_id
        self._waiting = []  # trials suggested to this client and not yet handed out by ask()

    @classmethod
    def attach(cls, server, job_id, **kwargs):
        """Another client of the study `job_id`."""
        return cls(server, job_id=job_id, **kwargs)

    def ask(self, timeout=None, batch=1):
        """The next trial to evaluate; waits while every trial in flight is leased to someone, or
        while the study is paused. None once the study has ended (its budget is spent, it failed
        or was cancelled), or when `timeout` seconds pass."""
        give_up = None if timeout is None else time.monotonic() + timeout
        pause = 0.001
        while not self._waiting:
            response = self._stub.SuggestTrials(
                service_pb2.SuggestTrialsRequest(job_id=self.job_id, count=batch,
                                                 client_id=self.client_id,
                                                 lease_seconds=self.lease_seconds),
                metadata=self._metadata)
            self._waiting.extend(Trial(t) for t in response.trials)
            if self._waiting:
                break
            if response.state in ENDED:
                return None
            if give_up is not None and time.monotonic() >= give_up:
                return None
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
        return self._waiting.pop(0)

    def tell(self, trial, value=None, *, failure=None, metrics=None):
        """Reports `trial`'s result: a number for a study with one objective, or a dict of every
        objective (and other numbers, kept as metrics) by name; or `failure`, the reason it could
        not be evaluated. Returns the evaluation as stored (an evolv.v1.Evaluation)."""
        request = service_pb2.CompleteTrialRequest(job_id=self.job_id, trial_id=trial.id,
                                                   client_id=self.client_id)
        if failure is not None:
            request.failure = str(failure) or "failed"
        else:
            values = dict(metrics or {})
            if isinstance(value, dict):
                values.update(value)
            else:
                values[self._only_objective()] = float(value)
            for name, number in values.items():
                request.values[name] = float(number)
        return self._stub.CompleteTrial(request, metadata=self._metadata).evaluation

    def record(self):
        """The study's JobRecord (state, progress, best so far)."""
        return self._stub.GetJob(service_pb2.GetJobRequest(job_id=self.job_id),
                                 metadata=self._metadata)

    def best(self):
        """(params, objectives as the client measured them) of the best trial so far by the first
        objective, or None before any succeeded."""
        rows = self._stub.QueryEvaluations(
            service_pb2.QueryEvaluationsRequest(job_id=self.job_id, page_size=1),
            metadata=self._metadata)
        for row in rows.rows:
            if row.evaluation.status != job_pb2.OK:
                return None
            signs = [-1.0 if d.scale == job_pb2.ObjectiveDisplay.NEGATED else 1.0
                     for d in rows.problem.objectives]
            values = {d.name: s * v for d, s, v in
                      zip(rows.problem.objectives, signs, row.evaluation.objectives)}
            return self._params_of(row.candidate), values
        return None

    def _study(self):
        if not hasattr(self, "_study_spec"):
            study = study_pb2.StudySpec()
            self.record().spec.problem.Unpack(study)
            self._study_spec = study
        return self._study_spec

    def _params_of(self, candidate):
        trial = study_pb2.StudyTrial()
        candidate.value.Unpack(trial)
        params = {}
        for parameter, value in zip(self._study().parameters, trial.values):
            kind = parameter.WhichOneof("kind")
            if kind == "integer":
                value = int(value)
            elif kind == "categorical":
                value = parameter.categorical.choices[int(value)]
            params[parameter.name] = value
        return params

    def _only_objective(self):
        names = [o.name for o in self._study().objectives]
        if len(names) != 1:
            raise ValueError("tell: the study has %d objectives; pass a dict of them by name"
                             % len(names))
        return names[0]

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
