"""The status page in headless Chromium: start evolvd, submit jobs with the evolv CLI, open the
page, and check the job row, a chart with data points, live progress, escaping of user text, a
job's report with its figure (the test tree's toy domain, served by evolvd_with_toy) and that the
browser logged no console errors.

  /usr/bin/python3 status_page_test.py --evolvd PATH --evolv PATH --evolvd-with-toy PATH
      --chromedriver PATH --chromium PATH
"""
import json
import os
import socket
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import evolvd_harness as h  # noqa: E402

DRIVER = {"chromedriver": None, "chromium": None, "evolvd-with-toy": None}
rest = []
it = iter(sys.argv[1:])
for arg in it:
    if arg in ("--chromedriver", "--chromium", "--evolvd-with-toy"):
        DRIVER[arg[2:]] = next(it)
    else:
        rest.append(arg)
ARGS = h.parse_args(rest)

EVIL_NAME = "<script>alert(1)</script>"

# A toy job in text format, its problem an Any spelled out (the evolv CLI does not know the toy
# domain; evolvd_with_toy does): evolv.test.ToySpec{dims: 2} is the bytes 08 02.
TOY_SPEC = r"""name: "toy report"
problem { type_url: "type.googleapis.com/evolv.test.ToySpec" value: "\010\002" }
strategy { regularized_evolution { population_size: 10 } }
budget { max_evaluations: 100 }
seed: 3
window: 4
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriver:
    """The few W3C WebDriver commands this test needs."""

    def __init__(self, chromedriver, chromium, profile_dir):
        self.port = free_port()
        self.proc = subprocess.Popen([chromedriver, "--port=%d" % self.port],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        h._children.append(self.proc)
        h.wait_for(self._ready, 30, "chromedriver")
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile_dir]},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _ready(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/status" % self.port, timeout=2) as r:
                return json.load(r)["value"]["ready"]
        except OSError:
            return False

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=data,
                                         method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.load(response)["value"]
        except urllib.error.HTTPError as e:
            raise AssertionError("webdriver %s %s: %s" % (method, path, e.read().decode()))

    def cmd(self, method, path, body=None):
        return self._call(method, "/session/%s%s" % (self.session, path), body)

    def get(self, url):
        self.cmd("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def browser_log(self):
        return self.cmd("POST", "/se/log", {"type": "browser"})

    def quit(self):
        try:
            self.cmd("DELETE", "")
        finally:
            self.proc.kill()
            self.proc.wait(timeout=10)


class StatusPage(unittest.TestCase):
    def test_jobs_chart_live_progress_escaping_no_console_errors(self):
        tmp = h.temp_dir("evolvd-e2e-")
        server = h.Evolvd(os.path.join(tmp, "data"), workers=2).start()
        try:
            evil = server.cli("submit", h.write_spec(
                tmp, h.numerics_spec(name=EVIL_NAME, budget=100000), "evil.json"))
            self.assertEqual(evil.returncode, 0, evil.stderr)
            evil_id = evil.stdout.strip()
            driver = WebDriver(DRIVER["chromedriver"], DRIVER["chromium"],
                               os.path.join(tmp, "profile"))
            try:
                driver.get(server.url + "/")
                row_name = h.wait_for(lambda: driver.js(
                    "const r = document.querySelector('tr.job-row[data-job-id=\"' + arguments[0]"
                    " + '\"] td.job-name'); return r && r.textContent;", evil_id), 20,
                    "the job row")
                self.assertEqual(row_name, EVIL_NAME)  # shown as text, not run
                self.assertEqual(driver.js("return document.querySelectorAll('script').length"), 1)
                state = driver.js("return document.querySelector('tr.job-row td.state')"
                                  ".textContent")
                self.assertEqual(state, "RUNNING")
                # No stray text: every top-level text node of the page is meaningful.
                stray = driver.js("return [...document.querySelector('main').childNodes]"
                                  ".filter(n => n.nodeType === 3 && n.textContent.trim())"
                                  ".map(n => n.textContent)")
                self.assertEqual(stray, [])

                # The job page: a chart with data points and progress that moves by itself.
                driver.get(server.url + "/job/" + evil_id)
                points = h.wait_for(lambda: driver.js(
                    "return document.querySelectorAll('#best-chart circle').length"), 30,
                    "chart points")
                self.assertGreater(points, 1)
                self.assertEqual(driver.js("return document.getElementById('job-name')"
                                           ".textContent"), EVIL_NAME)
                self.assertEqual(driver.js(
                    "return [...document.querySelector('main').childNodes]"
                    ".filter(n => n.nodeType === 3 && n.textContent.trim())"
                    ".map(n => n.textContent)"), [])
                self.assertTrue(driver.js("return document.querySelectorAll("
                                          "'#pareto-chart circle').length > 0"))
                self.assertIn("return", driver.js(
                    "return document.getElementById('best-candidate').textContent"))
                first = driver.js("return document.getElementById('live-progress').textContent")
                time.sleep(2.5)
                second = driver.js("return document.getElementById('live-progress').textContent")
                self.assertNotEqual(first, second, "progress did not update without a reload")
                self.assertGreater(int(second.split("/")[0]), int(first.split("/")[0]))
                self.assertGreater(driver.js("return document.querySelectorAll('#workers tr')"
                                             ".length"), 1)

                errors = [e for e in driver.browser_log() if e.get("level") == "SEVERE"]
                self.assertEqual(errors, [], "console errors: %s" % errors)
            finally:
                driver.quit()
            server.cli("cancel", evil_id)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_a_jobs_report_shows_its_text_and_figure(self):
        tmp = h.temp_dir("evolvd-e2e-report-")
        server = h.Evolvd(os.path.join(tmp, "data"), workers=1,
                          binary=DRIVER["evolvd-with-toy"]).start()
        try:
            spec = os.path.join(tmp, "toy.txt")
            with open(spec, "w") as f:
                f.write(TOY_SPEC)
            submitted = server.cli("submit", spec)
            self.assertEqual(submitted.returncode, 0, submitted.stderr)
            job_id = submitted.stdout.strip()
            h.wait_for(lambda: "SUCCEEDED" in server.cli("status", job_id).stdout, 30,
                       "the toy job to finish")
            driver = WebDriver(DRIVER["chromedriver"], DRIVER["chromium"],
                               os.path.join(tmp, "profile"))
            try:
                driver.get(server.url + "/job/" + job_id)
                # The figure, decoded by the browser: the toy's 4 x 4 gradient.
                width = h.wait_for(lambda: driver.js(
                    "const i = document.querySelector('#report img');"
                    " return i && i.complete && i.naturalWidth;"), 30, "the report's figure")
                self.assertEqual(width, 4)
                self.assertEqual(driver.js("return document.getElementById('report-text')"
                                           ".textContent"), "toy: 100 results\n")
                self.assertEqual(driver.js("return document.querySelector('#report figcaption')"
                                           ".textContent"), "toy gradient after 100 results")
                errors = [e for e in driver.browser_log() if e.get("level") == "SEVERE"]
                self.assertEqual(errors, [], "console errors: %s" % errors)
            finally:
                driver.quit()
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + ARGS, verbosity=2)
