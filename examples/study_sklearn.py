#!/usr/bin/env python3
"""Tunes a scikit-learn model with evolv: a support vector classifier on the handwritten digits
that ship with scikit-learn (load_digits, 1797 8x8 images), scored by 3-fold cross-validated
accuracy. The trials are evaluated here, in this process, by several client threads that ask
evolvd for trials and tell it the results (evolv.study); evolvd chooses them, stores every result
in its RocksDB cache and shows the study on its status page.

  build/evolvd --data-dir /tmp/evolv-data &                # no --allow-commands needed
  PYTHONPATH=build/python /usr/bin/python3 examples/study_sklearn.py --server 127.0.0.1:50051

Needs Debian's python3-sklearn and python3-grpcio (scripts/install-deps installs both).
"""
import argparse
import threading
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.svm import SVC

from evolv.study import Study

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--server", default="127.0.0.1:50051")
parser.add_argument("--trials", type=int, default=60, help="the study's evaluation budget")
parser.add_argument("--clients", type=int, default=2, help="client threads evaluating trials")
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()

X, y = load_digits(return_X_y=True)
X = X / 16.0

spec = {
    "name": "SVC on scikit-learn's digits",
    "study": {
        "parameters": [
            {"name": "C", "real": {"low": 1e-2, "high": 1e3, "log": True, "digits": 3}},
            {"name": "gamma", "real": {"low": 1e-4, "high": 1.0, "log": True, "digits": 3}},
            {"name": "kernel", "categorical": {"choices": ["rbf", "poly", "sigmoid"]}},
        ],
        "objectives": [{"name": "accuracy", "direction": "MAXIMIZE"}],
        # Names this objective function: a later study of it is served the stored results.
        "clients": {"objective": "sklearn-digits-svc-cv3/v1"},
    },
    "budget": {"max_evaluations": args.trials},
    "seed": args.seed,
    "window": args.clients,
}


def accuracy(params):
    model = SVC(C=params["C"], gamma=params["gamma"], kernel=params["kernel"])
    return float(cross_val_score(model, X, y, cv=3).mean())


study = Study(args.server, spec, client_id="main")
print("study %s: %d trials, %d clients" % (study.job_id, args.trials, args.clients), flush=True)
started = time.monotonic()


def client(n):
    with Study.attach(args.server, study.job_id, client_id="client-%d" % n) as mine:
        while (trial := mine.ask()) is not None:
            value = accuracy(trial.params)
            mine.tell(trial, value)
            print("trial %3d  %-45s accuracy %.4f" % (trial.id, trial.params, value), flush=True)


threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
params, values = study.best()
print("best accuracy %.4f with %s after %.1f s" % (values["accuracy"], params,
                                                   time.monotonic() - started))
