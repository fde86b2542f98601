"""The README's first command, `scripts/demo`, run as a newcomer runs it: in a fresh copy of the
working tree (the files git would clone: tracked and untracked-but-not-ignored, no build/), from
its root, until it prints the best program; then Ctrl-C (SIGINT to its process group, as a
terminal sends it) must stop it with status 0, leaving evolvd.log and evolv-data/ in the copy.

It builds evolvd and evolv from scratch in the copy, so it takes minutes (the README says how
long); ctest runs it with the label `fresh_clone` as well as `integration`. The README's second
command, `scripts/test`, is what CI runs on a fresh clone.

    readme_demo_test.py --source REPO_ROOT [--timeout SECONDS]
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def fresh_copy(source, target):
    """Copies what a clone of the working tree would hold."""
    files = subprocess.run(
        ["git", "-C", source, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True, capture_output=True).stdout.split(b"\0")
    copied = 0
    for name in files:
        if not name:
            continue
        relative = os.fsdecode(name)
        origin = os.path.join(source, relative)
        if not os.path.lexists(origin):
            continue  # deleted in the working tree, not yet in git
        destination = os.path.join(target, relative)
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        shutil.copy2(origin, destination, follow_symlinks=False)
        copied += 1
    return copied


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    parser.add_argument("--timeout", type=float, default=1500)
    args = parser.parse_args()

    root = tempfile.mkdtemp(prefix="evolv-fresh-")
    try:
        copied = fresh_copy(args.source, root)
        print(f"copied {copied} files to {root}", flush=True)
        demo = subprocess.Popen(["scripts/demo"], cwd=root, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        lines = []
        ready = threading.Event()

        def read():
            for line in demo.stdout:
                lines.append(line)
                if "Ctrl-C to stop it" in line:
                    ready.set()
            ready.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        started = time.monotonic()
        if not ready.wait(args.timeout):
            os.killpg(demo.pid, signal.SIGKILL)
            sys.exit(f"scripts/demo did not finish its search in {args.timeout:.0f} s; "
                     f"last output:\n{''.join(lines[-30:])}")
        output = "".join(lines)
        if demo.poll() is not None:
            sys.exit(f"scripts/demo exited {demo.returncode} before Ctrl-C:\n{output[-4000:]}")
        print(f"searched and printed the best program after {time.monotonic() - started:.0f} s",
              flush=True)

        up = re.search(r"evolvd is up: gRPC (\S+), status page (http://\S+/)", output)
        if not up:
            sys.exit(f"no 'evolvd is up' line:\n{output[-4000:]}")
        if not re.search(r"submitted examples/exp2-quick\.json as job j[0-9a-f]+", output):
            sys.exit(f"no 'submitted' line:\n{output[-4000:]}")
        if "static inline" not in output:
            sys.exit(f"no program printed as C:\n{output[-4000:]}")
        with urllib.request.urlopen(up.group(2), timeout=10) as page:
            if page.status != 200 or b"<html" not in page.read().lower():
                sys.exit(f"the status page {up.group(2)} did not answer with HTML")

        os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        try:
            status = demo.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            sys.exit("scripts/demo did not stop within 60 s of Ctrl-C")
        reader.join(5)
        if status != 0:
            sys.exit(f"scripts/demo exited {status} on Ctrl-C (the README says 0)")
        for left in ("evolvd.log", "evolv-data"):
            if not os.path.exists(os.path.join(root, left)):
                sys.exit(f"{left} is missing after the demo")
        for left in ("evolvd.log", "evolv-data/"):
            ignored = subprocess.run(["git", "-C", args.source, "check-ignore", "-q", left])
            if ignored.returncode != 0:
                sys.exit(f"{left} is not ignored by git")
        print("scripts/demo: ok (exit 0 on Ctrl-C)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
