"""The status page in headless Chromium: start evolvd, submit jobs with the evolv CLI, open the
page, and check the job row with its time-budget progress bar, the Chart.js charts (points, ticks,
full width, updated in place, nothing infinite drawn), live progress, the page's number format,
local workers, escaping of user text, a job's report with its figure and data chart (the test
tree's toy domain, served by evolvd_with_toy), drag-to-zoom and double-click reset on the charts,
and that the browser logged no console errors.

  /usr/bin/python3 status_page_test.py --evolvd PATH --evolv PATH --evolvd-with-toy PATH
      --chromedriver PATH --chromium PATH
"""
import json
import math
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

# What the page's one number formatter (fmt in web/assets/app.js) writes for a value, with a unit
# after it where the objective has one.
NUMBER = r"^(-?[0-9]+(\.[0-9]+)?(e-?[0-9]+)?|-?inf|nan)( .+)?$"

# A chart's state as Chart.js reports it: its points, its axes' ticks, and its width against the
# page's, or null before it exists.
CHART_STATE = """
const canvas = document.getElementById(arguments[0]);
const chart = canvas && Chart.getChart(canvas);
if (!chart) return null;
const data = chart.data.datasets[0].data;
return {points: data.length, xTicks: chart.scales.x.ticks.length,
        yTicks: chart.scales.y.ticks.length, xType: chart.scales.x.type,
        allFinite: data.every(p => Number.isFinite(p.x) && Number.isFinite(p.y)),
        widthShare: canvas.clientWidth / document.querySelector('main').clientWidth};
"""

# Drags across the middle half of a chart's plot area with synthesized mouse events (arguments:
# the canvas id, then "reset" to double-click instead); returns scales.x {min, max} after it.
DRAG_ZOOM = """
const canvas = document.getElementById(arguments[0]);
const chart = Chart.getChart(canvas);
const box = canvas.getBoundingClientRect();
const area = chart.chartArea;
const at = (type, x) => canvas.dispatchEvent(new MouseEvent(type, {
    bubbles: true, clientX: box.left + x, clientY: box.top + (area.top + area.bottom) / 2}));
if (arguments[1] === 'reset') {
  at('dblclick', (area.left + area.right) / 2);
} else {
  const width = area.right - area.left;
  at('mousedown', area.left + width / 4);
  at('mousemove', area.left + width / 2);
  at('mouseup', area.left + 3 * width / 4);
}
return {min: chart.scales.x.min, max: chart.scales.x.max};
"""

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
            # A budget in seconds only, so its progress bar can only come from its time.
            spec = h.numerics_spec(name=EVIL_NAME)
            spec["budget"] = {"max_seconds": 600}
            evil = server.cli("submit", h.write_spec(tmp, spec, "evil.json"))
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
                # Only the page's own scripts: Chart.js and app.js.
                self.assertEqual(driver.js("return [...document.querySelectorAll('script')]"
                                           ".map(s => s.getAttribute('src'))"),
                                 ["/vendor/chart.min.js", "/app.js"])
                state = driver.js("return document.querySelector('tr.job-row td.state')"
                                  ".textContent")
                self.assertEqual(state, "RUNNING")
                # No stray text: every top-level text node of the page is meaningful.
                stray = driver.js("return [...document.querySelector('main').childNodes]"
                                  ".filter(n => n.nodeType === 3 && n.textContent.trim())"
                                  ".map(n => n.textContent)")
                self.assertEqual(stray, [])
                # The time budget's bar fills as the job runs, beside "elapsed/600 s".
                progress = h.wait_for(lambda: driver.js(
                    "const c = document.querySelector('tr.job-row td.progress');"
                    " const w = parseFloat(c.querySelector('.bar > span').style.width);"
                    " return w > 0 && [w, c.textContent];"), 20, "the time budget's bar")
                self.assertRegex(progress[1], r"^[0-9]+ · [0-9.]+/600 s$")

                # The job page: a chart with data points and progress that moves by itself.
                driver.get(server.url + "/job/" + evil_id)
                best = h.wait_for(lambda: (lambda c: c and c["points"] > 1 and c["xTicks"] > 2
                                           and c)(driver.js(CHART_STATE, "best-chart")), 30,
                                  "the best-so-far chart with points and ticks")
                self.assertEqual(best["xType"], "logarithmic")
                self.assertGreater(best["yTicks"], 1)
                self.assertTrue(best["allFinite"])
                self.assertGreater(best["widthShare"], 0.9)
                driver.js("window.firstBestChart = Chart.getChart("
                          "document.getElementById('best-chart'))")
                self.assertEqual(driver.js("return document.getElementById('job-name')"
                                           ".textContent"), EVIL_NAME)
                self.assertEqual(driver.js(
                    "return [...document.querySelector('main').childNodes]"
                    ".filter(n => n.nodeType === 3 && n.textContent.trim())"
                    ".map(n => n.textContent)"), [])
                pareto = h.wait_for(lambda: (lambda c: c and c["points"] > 0 and c)(
                    driver.js(CHART_STATE, "pareto-chart")), 30, "the Pareto front chart")
                self.assertGreater(pareto["xTicks"], 2)
                self.assertGreater(pareto["yTicks"], 1)
                self.assertTrue(pareto["allFinite"])
                self.assertIn("return", driver.js(
                    "return document.getElementById('best-candidate').textContent"))
                first = driver.js("return document.getElementById('live-progress').textContent")
                time.sleep(2.5)
                second = driver.js("return document.getElementById('live-progress').textContent")
                self.assertNotEqual(first, second, "progress did not update without a reload")
                self.assertGreater(int(second.split("/")[0]), int(first.split("/")[0]))
                # Polls updated the same chart rather than making a new one each second.
                self.assertTrue(driver.js("return Chart.getChart(document.getElementById("
                                          "'best-chart')) === window.firstBestChart"))
                # Dragging zooms the x range, which later polls keep; a double-click resets it.
                full = driver.js(DRAG_ZOOM, "best-chart", "reset")
                zoomed = driver.js(DRAG_ZOOM, "best-chart")
                self.assertGreater(zoomed["min"], full["min"])
                self.assertLess(zoomed["max"], full["max"])
                time.sleep(1.5)
                kept = driver.js("const x = Chart.getChart(document.getElementById('best-chart'))"
                                 ".scales.x; return {min: x.min, max: x.max};")
                self.assertAlmostEqual(kept["min"], zoomed["min"])
                reset = driver.js(DRAG_ZOOM, "best-chart", "reset")
                self.assertLess(reset["min"], zoomed["min"])
                self.assertRegex(driver.js("return document.getElementById('time-progress')"
                                           ".textContent"), r"^[0-9.]+/600 s$")
                cells = driver.js("return [...document.querySelectorAll('#recent td.num')]"
                                  ".map(c => c.textContent)")
                self.assertTrue(cells)
                for cell in cells + [driver.js("return document.getElementById("
                                               "'best-objective').textContent")]:
                    self.assertRegex(cell, NUMBER)
                # Each evaluation names its worker and the device it ran on.
                evaluated_by = driver.js(
                    "return [...document.querySelectorAll('#recent td.evaluated-by')]"
                    ".map(c => c.textContent)")
                self.assertTrue(evaluated_by)
                for text in evaluated_by:
                    if text:  # a cache hit names no worker
                        self.assertRegex(text, r"^\S+ on cpu$")
                # Local workers say whether they are busy, not when they were last seen.
                seen = driver.js("return [...document.querySelectorAll('#workers td.last-seen')]"
                                 ".map(c => c.textContent)")
                self.assertEqual(len(seen), 2)
                for text in seen:
                    self.assertIn(text, ("local, idle", "local, busy"))

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
                # The data chart: y = x * x at x = 0..4 on a log y axis, so 0 is left out.
                chart = h.wait_for(lambda: driver.js(CHART_STATE, "report-chart-results"), 30,
                                   "the report's chart")
                self.assertEqual(chart["points"], 4)
                self.assertTrue(chart["allFinite"])
                self.assertGreater(chart["widthShare"], 0.9)
                self.assertEqual(driver.js(
                    "const c = Chart.getChart(document.getElementById('report-chart-results'));"
                    " return [c.scales.y.type, c.options.plugins.title.text,"
                    " c.data.datasets[0].stepped];"),
                    ["logarithmic", "toy chart after 100 results", "after"])
                full = driver.js(DRAG_ZOOM, "report-chart-results", "reset")
                zoomed = driver.js(DRAG_ZOOM, "report-chart-results")
                self.assertGreater(zoomed["min"], full["min"])
                self.assertLess(zoomed["max"], full["max"])
                self.assertEqual(driver.js(DRAG_ZOOM, "report-chart-results", "reset"), full)
                errors = [e for e in driver.browser_log() if e.get("level") == "SEVERE"]
                self.assertEqual(errors, [], "console errors: %s" % errors)
            finally:
                driver.quit()
        finally:
            self.assertEqual(server.stop(), 0)

    def test_a_study_evaluated_by_its_clients_shows_its_trials_and_charts(self):
        # evolv's Python client (build/python, on sys.path through --stubs).
        from evolv.study import Study
        from evolv.v1 import job_pb2
        tmp = h.temp_dir("evolvd-e2e-study-")
        server = h.Evolvd(os.path.join(tmp, "data"), workers=1).start()
        try:
            study = Study(server.address, {
                "name": "e2e study", "budget": {"max_evaluations": 30}, "seed": 2, "window": 2,
                "study": {"parameters": [{"name": "lr", "real": {"low": 1e-4, "high": 1,
                                                                 "log": True}},
                                         {"name": "act", "categorical": {
                                             "choices": ["relu", "tanh"]}}],
                          "objectives": [{"name": "accuracy", "direction": "MAXIMIZE"}],
                          "clients": {"objective": "e2e/v1"}}}, client_id="e2e")
            while (trial := study.ask(timeout=30)) is not None:
                lr = trial.params["lr"]
                study.tell(trial, 1 - abs(math.log10(lr) + 2) / 4)
            h.wait_for(lambda: study.record().state == job_pb2.SUCCEEDED, 30, "the study to end")
            driver = WebDriver(DRIVER["chromedriver"], DRIVER["chromium"],
                               os.path.join(tmp, "profile"))
            try:
                driver.get(server.url + "/job/" + study.job_id)
                # The trials: each with its parameters and the client that evaluated it.
                rows = h.wait_for(lambda: driver.js(
                    "return [...document.querySelectorAll('#recent tr')].slice(1).map("
                    "r => [...r.cells].map(c => c.textContent))"), 30, "the trials table")
                self.assertEqual(len(rows), 20)
                for row in rows:
                    self.assertRegex(row[-2], r"^lr=[0-9.e-]+, act=(relu|tanh)$")
                    self.assertEqual(row[-1], "" if row[2] == "yes" else "client e2e")
                    # The accuracy as measured (maximized: shown as the value, not negated).
                    self.assertGreaterEqual(float(row[3]), 0)
                # Best so far, and the objective against each parameter (log x for lr).
                best = h.wait_for(lambda: driver.js(CHART_STATE, "report-chart-best-so-far"), 30,
                                  "the best-so-far chart")
                self.assertGreater(best["points"], 0)
                lr_chart = h.wait_for(lambda: driver.js(CHART_STATE, "report-chart-parameter-0"),
                                      30, "the accuracy-against-lr chart")
                self.assertEqual(lr_chart["points"], 30)
                self.assertEqual(lr_chart["xType"], "logarithmic")
                self.assertTrue(lr_chart["allFinite"])
                errors = [e for e in driver.browser_log() if e.get("level") == "SEVERE"]
                self.assertEqual(errors, [], "console errors: %s" % errors)
            finally:
                driver.quit()
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + ARGS, verbosity=2)
