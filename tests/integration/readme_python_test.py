"""README.md's "From Python" snippet, run exactly as the README prints it.

Run by ctest (label "integration"):
  /usr/bin/python3 readme_python_test.py --evolvd PATH --readme README.md --proto DIR [unittest args]
The README's protoc command runs verbatim (through the shell) in a temporary copy of proto/, so the
stubs land there and not in the repository; its ```python block then runs verbatim in that
directory with this same interpreter (Debian's /usr/bin/python3) against a real evolvd.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import evolvd_harness as h
from evolvd_harness import Evolvd

README = None
PROTO = None


def _parse_args(argv):
    global README, PROTO
    rest = []
    it = iter(argv)
    for arg in it:
        if arg == "--readme":
            README = next(it)
        elif arg == "--proto":
            PROTO = next(it)
        else:
            rest.append(arg)
    return h.parse_args(rest)


ARGS = _parse_args(sys.argv[1:])

README_ADDRESS = "127.0.0.1:50051"
PROGRESS_LINE = re.compile(r"^\d+ (\S+)$")


def extract_snippet(text):
    """Returns (protoc command line, python block) of the README's "From Python" paragraph, or
    raises AssertionError saying which marker is missing."""
    start = text.find("From Python")
    if start < 0:
        raise AssertionError('README.md has no "From Python" paragraph any more')
    section = text[start:]
    command = re.search(r"`(protoc [^`\n]*)`", section)
    if not command:
        raise AssertionError('README.md\'s "From Python" paragraph has no `protoc ...` command '
                             "in backticks before its python block")
    block = re.search(r"^```python\n(.*?)^```$", section, re.DOTALL | re.MULTILINE)
    if not block:
        raise AssertionError('README.md\'s "From Python" paragraph has no ```python block')
    if command.start() > block.start():
        raise AssertionError('README.md\'s `protoc ...` command no longer precedes its '
                             "```python block")
    code = block.group(1)
    if README_ADDRESS not in code:
        raise AssertionError("README.md's python block no longer connects to %s" % README_ADDRESS)
    return command.group(1), code


class ReadmePython(unittest.TestCase):
    def test_snippet_runs_as_printed_against_a_real_evolvd(self):
        with open(README) as f:
            command, code = extract_snippet(f.read())

        work = tempfile.mkdtemp(prefix="readme-python-")
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        shutil.copytree(PROTO, os.path.join(work, "proto"))
        protoc = subprocess.run(command, shell=True, cwd=work, capture_output=True, text=True,
                                timeout=60)
        self.assertEqual(protoc.returncode, 0,
                         "the README's protoc command failed:\n%s\n%s" % (command, protoc.stderr))
        self.assertTrue(os.path.exists(os.path.join(work, "evolv", "v1", "service_pb2_grpc.py")))

        server = Evolvd(os.path.join(work, "data")).start()
        try:
            # The only change to the README's code: its fixed port 50051 becomes the port evolvd
            # chose at run time, as in every integration test (a fixed port may be taken).
            script = os.path.join(work, "snippet.py")
            with open(script, "w") as f:
                f.write(code.replace(README_ADDRESS, server.address))
            env = dict(os.environ)
            env.pop("PYTHONPATH", None)  # the stubs it imports are the ones just generated
            run = subprocess.run([sys.executable, script], cwd=work, capture_output=True,
                                 text=True, env=env, timeout=120)
            self.assertEqual(run.returncode, 0, "the README's python block failed:\n%s\n%s\n"
                             "evolvd log:\n%s" % (run.stdout, run.stderr, server.log()))
        finally:
            server.stop()

        # First the WatchJob lines "evaluations best_objective", then the best row's rendered
        # program (several lines of C).
        lines = run.stdout.rstrip().split("\n")
        progress = []
        while lines and PROGRESS_LINE.match(lines[0]):
            progress.append(lines.pop(0).split())
            float(progress[-1][1])
        self.assertTrue(progress, "no progress line:\n" + run.stdout)
        self.assertEqual(int(progress[-1][0]), 600, "the job did not end at its budget:\n" +
                         run.stdout)
        self.assertTrue(lines and lines[-1].strip(), "no rendered program:\n" + run.stdout)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + ARGS)
