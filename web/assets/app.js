// The evolvd status page: polls /api/... every second and redraws; its charts (Chart.js, the
// global `Chart` from /vendor/chart.min.js, loaded first by index.html) are kept and updated in
// place. Every piece of user text is inserted with textContent (never innerHTML), so a job named
// <script> shows as text. A job's report (its domain's text, figures and data charts,
// /api/jobs/ID/report) is fetched apart, see REPORT_MS. Every chart zooms without a plugin: drag
// across it to zoom its x range, double-click to reset (dragZoom).
// The page knows no domain: domain and objective names and labels come from the API
// (ListJobsResponse.domains, JobDetail.problem) and candidates are shown as the server renders
// them (EvaluationRow.rendered), never by reading Candidate.value.
'use strict';

const POLL_MS = 1000;
// A report may take its domain seconds to draw: it is fetched when the job's checkpointed history
// has grown, at most this often, and its section is kept between polls (images stay loaded).
const REPORT_MS = 10000;
// charts: the report's data charts, [{canvas, spec (v1.ReportChart), zoom, chart (made once the
// canvas is in the page)}].
const report = {jobId: null, historySize: -1, fetchedAt: 0, pending: false, node: null, charts: []};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return node;
}

// protobuf's JSON mapping: 64-bit integers are strings, defaults are omitted, inf is "Infinity".
// A count: an omitted or unreadable one is 0.
function num(x) {
  if (x === undefined || x === null) return 0;
  const n = Number(x);
  return Number.isNaN(n) ? 0 : n;
}

// A double as sent: omitted is 0 (protobuf's default), "Infinity" and "NaN" stay what they are, a
// null (no value) is NaN, so charts leave it out.
function dbl(x) {
  if (x === undefined) return 0;
  if (x === null) return NaN;
  return Number(x);
}

// The page's one number format, for costs, rates, times and objectives: 4 significant digits,
// trailing zeros dropped, exponent form only below 1e-3 or from 1e6 on; inf, -inf and nan as such.
function fmt(x) {
  const n = dbl(x);
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return '0';
  const rounded = Number(n.toPrecision(4));
  const a = Math.abs(rounded);
  if (a >= 1e-3 && a < 1e6) return String(rounded);
  const [mantissa, exponent] = n.toExponential(3).split('e');
  return Number(mantissa) + 'e' + Number(exponent);
}

// The quantity a stored objective value stands for: 10^value when its display's scale is LOG10,
// -value when it is NEGATED (a maximized quantity).
function shown(value, display) {
  const v = dbl(value);
  const scale = (display || {}).scale;
  return scale === 'LOG10' ? 10 ** v : scale === 'NEGATED' ? -v : v;
}

// A stored objective value as people read it: the quantity, formatted, and its unit.
function fmtObjective(value, display) {
  const unit = (display || {}).unit;
  return fmt(shown(value, display)) + (unit ? ' ' + unit : '');
}

// A state as people read it: FAILED_STATE (the enum's spelling, protobuf's scoping) is FAILED.
function stateName(state) {
  return (state || '').replace(/_STATE$/, '');
}

// An objective's label on this page, which shows quantities (see shown()): its ObjectiveDisplay's
// label (or name) and its unit.
function objectiveLabel(display) {
  const d = display || {};
  const label = d.label || d.name || 'objective';
  return label + (d.unit ? ` (${d.unit})` : '');
}

function hitRate(cache) {
  cache = cache || {};
  const hits = num(cache.hits), lookups = hits + num(cache.misses);
  return lookups > 0 ? (100 * hits / lookups).toFixed(1) + '%' : '–';
}

// How much of its budget a job has used, as the CLI's progress line reads it (docs/adr/0012): the
// largest fraction among its bounds (evaluations, the strategy's units, seconds); null: unbounded.
function usedFraction(p) {
  const fractions = [];
  if (num(p.budget_evaluations) > 0) fractions.push(num(p.evaluations) / num(p.budget_evaluations));
  const units = p.units || {};
  if (num(units.total) > 0) fractions.push(num(units.done) / num(units.total));
  if (dbl(p.budget_seconds) > 0) fractions.push(dbl(p.elapsed_seconds) / dbl(p.budget_seconds));
  return fractions.length ? Math.min(1, Math.max(...fractions)) : null;
}

function bar(fraction) {
  return el('span', {class: 'bar'},
            el('span', {style: 'width:' + (100 * (fraction || 0)).toFixed(1) + '%'}));
}

// "12.3/600 s" for a job with a time budget, else null.
function timeText(p) {
  return dbl(p.budget_seconds) > 0 ? `${fmt(p.elapsed_seconds)}/${fmt(p.budget_seconds)} s` : null;
}

function progressCell(job) {
  const p = job.progress || {};
  const done = num(p.evaluations), budget = num(p.budget_evaluations);
  const time = timeText(p);
  return el('td', {class: 'num progress', 'data-evaluations': String(done)}, bar(usedFraction(p)),
            budget > 0 ? `${done}/${budget}` : String(done), time ? ' · ' + time : null);
}

async function getJson(path) {
  const response = await fetch(path, {cache: 'no-store'});
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || response.statusText);
  return body;
}

// A worker's last-seen column. Local workers (SpawnLocalWorkers' host "localhost") run in evolvd
// and send no heartbeats, so their last-seen time only dates their last evaluation: they show
// whether they are busy instead.
function lastSeen(w) {
  if ((w.info || {}).host === 'localhost') return num(w.busy) > 0 ? 'local, busy' : 'local, idle';
  const seen = num(w.last_seen_unix_ms);
  return seen > 0 ? `${Math.max(0, Math.round((Date.now() - seen) / 1000))} s ago` : '';
}

// "cpu", or "cuda:0 NVIDIA H200, 141 GB, sm 9.0" for a GPU worker.
function deviceText(info) {
  const device = info.device || '';
  if (!info.device_name) return device;
  const gb = num(info.device_memory_bytes) / 1e9;
  const parts = [info.device_name];
  if (gb > 0) parts.push(`${gb.toFixed(gb < 10 ? 1 : 0)} GB`);
  if (info.compute_capability) parts.push(`sm ${info.compute_capability}`);
  return `${device} ${parts.join(', ')}`;
}

function workersTable(workers) {
  const table = el('table', {id: 'workers'},
    el('tr', {}, el('th', {}, 'worker'), el('th', {}, 'host'), el('th', {}, 'device'),
       el('th', {}, 'slots'), el('th', {}, 'load'), el('th', {}, 'evaluations'),
       el('th', {}, 'last seen')));
  for (const w of workers || []) {
    const info = w.info || {};
    table.appendChild(el('tr', {}, el('td', {}, info.id || ''), el('td', {}, info.host || ''),
      el('td', {}, deviceText(info)),
      el('td', {class: 'num'}, String(num(info.slots))),
      el('td', {class: 'num'}, `${num(w.busy)}/${num(info.slots)}`),
      el('td', {class: 'num'}, String(num(w.evaluations))),
      el('td', {class: 'last-seen'}, lastSeen(w))));
  }
  return table;
}

async function renderIndex(main) {
  const [jobs, workers] = await Promise.all([getJson('/api/jobs'), getJson('/api/workers')]);
  const table = el('table', {id: 'jobs'},
    el('tr', {}, ...['name', 'id', 'domain', 'state', 'progress', 'best objective', 'evals/s',
                     'cache hit rate'].map(h => el('th', {}, h))));
  const domains = jobs.domains || {};
  for (const job of jobs.jobs || []) {
    const p = job.progress || {};
    const spec = job.spec || {};
    const link = el('a', {href: '/job/' + encodeURIComponent(job.id)}, spec.name || '(unnamed)');
    table.appendChild(el('tr', {class: 'job-row', 'data-job-id': job.id},
      el('td', {class: 'job-name'}, link), el('td', {class: 'muted'}, job.id),
      el('td', {class: 'domain'}, domains[job.id] || '?'),
      el('td', {class: 'state state-' + (job.state || '')}, stateName(job.state)),
      progressCell(job), el('td', {class: 'num'}, fmtObjective(p.best_objective, p.objective)),
      el('td', {class: 'num'}, fmt(p.evals_per_second)),
      el('td', {class: 'num'}, hitRate(p.cache))));
  }
  // replaceChildren, unlike el(), would turn a null into the text "null".
  const nodes = [el('h1', {}, 'Jobs'), table];
  if (!(jobs.jobs || []).length) nodes.push(el('p', {class: 'muted'}, 'no jobs yet'));
  main.replaceChildren(...nodes, el('h2', {}, 'Workers'), workersTable(workers.workers));
}

// The job page's charts, kept between polls and updated in place: {jobId, best, pareto}, each
// chart {node (its box, put back into the page on each poll), canvas, chart (Chart.js, made once
// the canvas is in the page)}.
const charts = {jobId: null, best: null, pareto: null};

function chartSlot(jobId, slot, canvasId) {
  if (charts.jobId !== jobId) {
    for (const old of [charts.best, charts.pareto]) if (old && old.chart) old.chart.destroy();
    Object.assign(charts, {jobId, best: null, pareto: null});
  }
  if (!charts[slot]) {
    const canvas = el('canvas', {id: canvasId});
    charts[slot] = {node: el('div', {class: 'chart'}, canvas), canvas, chart: null, zoom: {}};
  }
  return charts[slot];
}

// A log axis when the display is LOG10 (the quantity is 10^value) or when positive values span
// more than two decades.
function axisType(values, display) {
  if ((display || {}).scale === 'LOG10') return 'logarithmic';
  if (!values.length || !values.every(v => v > 0)) return 'linear';
  return Math.max(...values) / Math.min(...values) > 100 ? 'logarithmic' : 'linear';
}

// Tick labels: every tick of a linear axis; 1, 2 and 5 times a power of ten on a log axis.
function tickLabel(type) {
  return value => {
    if (type !== 'logarithmic') return fmt(value);
    const mantissa = value / 10 ** Math.floor(Math.log10(value));
    return [1, 2, 5].some(m => Math.abs(mantissa - m) < 1e-6) ? fmt(value) : '';
  };
}

function axis(type, title) {
  return {type, title: {display: true, text: title}, ticks: {callback: tickLabel(type)}};
}

// Drag-to-zoom without a plugin: a drag of more than 4 pixels across the chart sets its x range
// to what the drag covered, a double-click resets it. The range lives in `zoom` ({min, max}),
// which the chart's owner applies to scales.x whenever it replaces the options (zoomed).
function dragZoom(chart, zoom) {
  const canvas = chart.canvas;
  let from = null;
  const offsetX = event => event.clientX - canvas.getBoundingClientRect().left;
  canvas.addEventListener('mousedown', event => { from = offsetX(event); });
  canvas.addEventListener('mouseup', event => {
    if (from === null) return;
    const to = offsetX(event);
    const [a, b] = [Math.min(from, to), Math.max(from, to)];
    from = null;
    if (b - a <= 4) return;
    const x = chart.scales.x;
    zoom.min = x.getValueForPixel(Math.max(a, x.left));
    zoom.max = x.getValueForPixel(Math.min(b, x.right));
    zoomed(chart.options, zoom);
    chart.update('none');
  });
  canvas.addEventListener('mouseleave', () => { from = null; });
  canvas.addEventListener('dblclick', () => {
    delete zoom.min;
    delete zoom.max;
    zoomed(chart.options, zoom);
    chart.update('none');
  });
}

// `options` with scales.x limited to the zoomed range, if any.
function zoomed(options, zoom) {
  for (const end of ['min', 'max']) {
    if (zoom[end] === undefined) delete options.scales.x[end];
    else options.scales.x[end] = zoom[end];
  }
  return options;
}

// Points [{x, y, ...}] a chart can draw: finite, and positive on a log axis (an infinite objective,
// e.g. a candidate that failed, is left out, never drawn at 0).
function drawable(points, xType, yType) {
  return points.filter(p => Number.isFinite(p.x) && Number.isFinite(p.y) &&
                            (xType !== 'logarithmic' || p.x > 0) &&
                            (yType !== 'logarithmic' || p.y > 0));
}

// Draws `points` in `slot` as dots joined by a step line (a best-so-far curve, a Pareto front),
// creating the chart on the first poll and updating it in place (no animation) after that.
// `tooltip(point)` gives a point's tooltip lines.
function stepChart(slot, points, x, y, tooltip) {
  const options = {
    responsive: true, maintainAspectRatio: false, animation: false,
    interaction: {mode: 'nearest', intersect: false},
    plugins: {legend: {display: false},
              tooltip: {callbacks: {title: () => '', label: item => tooltip(item.raw)}}},
    scales: {x: axis(x.type, x.title), y: axis(y.type, y.title)},
  };
  const data = drawable(points, x.type, y.type);
  zoomed(options, slot.zoom);
  if (!slot.chart) {
    slot.chart = new Chart(slot.canvas, {type: 'line', options, data: {datasets: [{
      data, stepped: true, borderColor: '#3c7be0', backgroundColor: '#3c7be0', borderWidth: 1.5,
      pointRadius: 2.5, pointHoverRadius: 5}]}});
    dragZoom(slot.chart, slot.zoom);
    return;
  }
  slot.chart.options = options;
  slot.chart.data.datasets[0].data = data;
  slot.chart.update('none');
}

function bestChart(slot, detail, display) {
  const points = (detail.best_curve || []).map(
      c => ({x: num(c.evaluations), y: shown(c.best_objective, display)}));
  const label = objectiveLabel(display);
  stepChart(slot, points, {type: 'logarithmic', title: 'evaluations (log)'},
            {type: axisType(points.map(p => p.y).filter(Number.isFinite), display),
             title: 'best ' + label},
            p => [`evaluations: ${p.x}`, `best ${label}: ${fmt(p.y)}`]);
}

// The Pareto front of the first two objectives: the second across, the first up.
function paretoChart(slot, detail, displays) {
  const points = (detail.pareto_front || []).map(r => {
    const o = (r.evaluation || {}).objectives || [];
    return {x: shown(o[1], displays[1]), y: shown(o[0], displays[0]), index: num(r.index)};
  }).sort((a, b) => a.x - b.x);
  const [yLabel, xLabel] = displays.map(objectiveLabel);
  const finite = values => values.filter(Number.isFinite);
  stepChart(slot, points,
            {type: axisType(finite(points.map(p => p.x)), displays[1]), title: xLabel},
            {type: axisType(finite(points.map(p => p.y)), displays[0]), title: yLabel},
            p => [`evaluation ${p.index}`, `${yLabel}: ${fmt(p.y)}`, `${xLabel}: ${fmt(p.x)}`]);
}

function card(label, value, id) {
  return el('div', {class: 'card'}, el('div', {class: 'muted'}, label), el('div', {class: 'v', id}, value));
}

// The candidate as its problem renders it, on one line: the first line, at most 80 characters;
// the whole text is its tooltip.
function candidateCell(rendered) {
  const text = rendered || '';
  const line = text.split('\n')[0];
  const short =
      line.length > 80 ? line.slice(0, 79) + '\u2026' : (line !== text ? line + ' \u2026' : line);
  return el('td', {class: 'candidate', title: text}, short);
}

// Who evaluated a row and on what: "local-1 on cpu", "gpu-7 on cuda:0 NVIDIA H200", or
// "client NAME" for a study's client (which names no device).
function evaluatedBy(e) {
  if (!e.worker) return '';
  return e.device ? `${e.worker} on ${e.device}` : e.worker;
}

function evalRows(rows, names, displays) {
  const table =
      el('table', {id: 'recent'},
         el('tr', {}, el('th', {}, 'index'), el('th', {}, 'key'), el('th', {}, 'cache hit'),
            ...names.map(n => el('th', {}, n)), el('th', {}, 'status'), el('th', {}, 'candidate'),
            el('th', {}, 'evaluated by')));
  for (const r of rows || []) {
    const e = r.evaluation || {};
    const objectives = (e.objectives || []).map(
        (v, k) => el('td', {class: 'num'}, fmtObjective(v, displays[k])));
    table.appendChild(
        el('tr', {}, el('td', {class: 'num'}, String(num(r.index))),
           el('td', {class: 'muted'}, (r.key_hex || '').slice(0, 12)),
           el('td', {}, r.cache_hit ? 'yes' : 'no'), ...objectives, el('td', {}, e.status || ''),
           candidateCell(r.rendered),
           el('td', {class: 'muted evaluated-by'}, r.cache_hit ? '' : evaluatedBy(e))));
  }
  return table;
}

const PALETTE = ['#3c7be0', '#e0623c', '#2e9e5b', '#9b59b6', '#d4a017', '#17a2b8', '#7a8291',
                 '#c2185b'];

// A canvas for each of the report's data charts ({canvas, spec, zoom, chart: null}, as
// report.charts holds them); drawReportCharts draws them once they are in the page.
function reportChartSlots(body) {
  return (body.charts || []).map(spec => ({
    canvas: el('canvas', {id: 'report-chart-' + spec.name, class: 'report-chart'}), spec,
    zoom: {}, chart: null}));
}

// Makes the Chart.js chart of each report chart whose canvas is in the page: one dataset per
// series (a step line or unjoined points where the series asks), finite points only (and positive on a log axis).
function drawReportCharts() {
  for (const c of report.charts) {
    if (c.chart || !c.canvas.isConnected) continue;
    const spec = c.spec;
    const xType = spec.log_x ? 'logarithmic' : 'linear';
    const yType = spec.log_y ? 'logarithmic' : 'linear';
    const series = spec.series || [];
    const datasets = series.map((s, k) => {
      const ys = s.y || [];
      const points = (s.x || []).map((x, i) => ({x: dbl(x), y: dbl(ys[i])}));
      const color = PALETTE[k % PALETTE.length];
      // Chart.js takes data given unparsed as sorted by x (it reads the axis range off the ends),
      // so unjoined points, in any order from the report, are sorted here.
      const data = drawable(points, xType, yType);
      if (s.points) data.sort((a, b) => a.x - b.x);
      return {label: s.label || '', data,
              stepped: s.step && !s.points ? 'after' : false, showLine: !s.points,
              borderColor: color, backgroundColor: color,
              borderWidth: 1.5, pointRadius: s.points ? 3 : 0, pointHoverRadius: 4};
    });
    const options = {
      responsive: true, maintainAspectRatio: false, animation: false, parsing: false,
      interaction: {mode: 'nearest', intersect: false},
      plugins: {
        title: {display: !!spec.title, text: spec.title || ''},
        legend: {display: series.length > 1},
        tooltip: {callbacks: {
          title: items => items.length ? `${spec.x_label || 'x'}: ${fmt(items[0].raw.x)}` : '',
          label: item => `${item.dataset.label || spec.y_label || 'y'}: ${fmt(item.raw.y)}`}}},
      scales: {x: axis(xType, spec.x_label || ''), y: axis(yType, spec.y_label || '')},
    };
    c.chart = new Chart(c.canvas, {type: 'line', options: zoomed(options, c.zoom), data: {datasets}});
    dragZoom(c.chart, c.zoom);
  }
}

function reportSection(body) {
  const figures = (body.figures || []).map(f => el('figure', {class: 'report-figure'},
    // The query only defeats the browser's cache: the server serves the latest report's figure.
    el('img', {src: f.url + '?history=' + num(body.history_size), alt: f.caption || f.name}),
    el('figcaption', {}, f.caption || f.name)));
  const slots = reportChartSlots(body);
  const node = el('div', {id: 'report'}, el('pre', {id: 'report-text'}, body.text || ''),
                  slots.length ? el('div', {class: 'report-charts'},
                                    ...slots.map(c => el('div', {class: 'chart'}, c.canvas))) : null,
                  figures.length ? el('div', {class: 'report-figures'}, ...figures) : null);
  return {node, slots};
}

function refreshReport(id, historySize) {
  if (report.jobId !== id) {
    for (const old of report.charts) if (old.chart) old.chart.destroy();
    Object.assign(report, {jobId: id, historySize: -1, fetchedAt: 0, node: null, charts: []});
  }
  if (report.pending || historySize === report.historySize) return;
  if (report.node && Date.now() - report.fetchedAt < REPORT_MS) return;
  report.pending = true;
  report.fetchedAt = Date.now();
  getJson('/api/jobs/' + encodeURIComponent(id) + '/report')
    .then(body => reportSection(body))
    .catch(err => ({node: el('div', {id: 'report'},
                             el('p', {class: 'error'}, 'no report: ' + err.message)), slots: []}))
    .then(({node, slots}) => {
      if (report.jobId !== id) return;  // the page moved on to another job meanwhile
      for (const old of report.charts) if (old.chart) old.chart.destroy();
      report.charts = slots;
      report.node = node;
      report.historySize = historySize;
    })
    .finally(() => { report.pending = false; });
}

async function renderJob(main, id) {
  const [detail, workers] = await Promise.all([
    getJson('/api/jobs/' + encodeURIComponent(id) + '/detail'), getJson('/api/workers')]);
  const job = detail.job || {};
  const p = job.progress || {};
  const cache = p.cache || {};
  const problem = detail.problem || {};
  const displays = (problem.objectives || []).length
    ? problem.objectives : (problem.objective_names || []).map(name => ({name}));
  const names = displays.length ? displays.map(objectiveLabel) : ['objective'];
  const done = num(p.evaluations), budget = num(p.budget_evaluations);
  const nodes = [
    el('h1', {id: 'job-name'}, (job.spec || {}).name || '(unnamed)'),
    el('p', {class: 'muted'}, `${job.id} · `, el('span', {id: 'job-domain'}, problem.domain || '?'),
       ' · ',
       el('span', {class: 'state state-' + (job.state || ''), id: 'job-state'}, stateName(job.state))),
    job.error ? el('p', {class: 'error'}, job.error) : null,
    el('div', {class: 'cards'},
      card('evaluations', budget > 0 ? `${done}/${budget}` : String(done), 'live-progress'),
      p.units ? card(p.units.name, `${num(p.units.done)}/${num(p.units.total)}`) : null,
      p.note ? card('progress', p.note) : null,
      timeText(p) ? card('time', el('span', {}, bar(dbl(p.elapsed_seconds) / dbl(p.budget_seconds)),
                                        timeText(p)), 'time-progress') : null,
      card('best ' + names[0], fmtObjective(p.best_objective, displays[0]), 'best-objective'),
      card('evals/s', fmt(p.evals_per_second)),
      card('cache hits', String(num(cache.hits))), card('cache misses', String(num(cache.misses))),
      card('hit rate', hitRate(cache)), card('collisions', String(num(cache.collisions))),
      card('eval-seconds saved', fmt(cache.eval_seconds_saved))),
    el('h2', {}, `Best ${names[0]} vs evaluations`),
    chartSlot(id, 'best', 'best-chart').node,
  ];
  if (names.length > 1) {
    nodes.push(el('h2', {}, `Pareto front (${names[0]} vs ${names[1]})`),
               chartSlot(id, 'pareto', 'pareto-chart').node);
  }
  if (detail.best) {
    nodes.push(el('h2', {}, 'Best candidate'), el('pre', {id: 'best-candidate'}, detail.best.rendered || ''));
  }
  // recent is newest first: its first row's index + 1 is the checkpointed history's size.
  const recent = detail.recent || [];
  refreshReport(id, recent.length ? num(recent[0].index) + 1 : 0);
  nodes.push(el('h2', {}, 'Report'), report.node || el('p', {class: 'muted'}, 'drawing the report…'));
  nodes.push(el('h2', {}, 'Recent evaluations'), evalRows(detail.recent, names, displays),
             el('h2', {}, 'Workers'), workersTable(workers.workers));
  main.replaceChildren(...nodes.filter(n => n !== null));  // a null would show as "null"
  // Charts are made once their canvas is in the page (Chart.js sizes them from their box).
  bestChart(charts.best, detail, displays[0]);
  if (names.length > 1) paretoChart(charts.pareto, detail, displays);
  drawReportCharts();
}

async function tick() {
  const main = document.getElementById('main');
  const path = window.location.pathname;
  try {
    if (path.startsWith('/job/')) await renderJob(main, decodeURIComponent(path.slice(5)));
    else await renderIndex(main);
    document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (err) {
    document.getElementById('updated').textContent = 'update failed: ' + err.message;
  }
  setTimeout(tick, POLL_MS);
}

tick();
