// The evolvd status page: polls /api/... every second and redraws. Every piece of user text is
// inserted with textContent (never innerHTML), so a job named <script> shows as text. A job's
// report (its domain's text and figures, /api/jobs/ID/report) is fetched apart, see REPORT_MS.
// The page knows no domain: domain and objective names and labels come from the API
// (ListJobsResponse.domains, JobDetail.problem) and candidates are shown as the server renders
// them (EvaluationRow.rendered), never by reading Candidate.value.
'use strict';

const POLL_MS = 1000;
// A report may take its domain seconds to draw: it is fetched when the job's checkpointed history
// has grown, at most this often, and its section is kept between polls (images stay loaded).
const REPORT_MS = 10000;
const report = {jobId: null, historySize: -1, fetchedAt: 0, pending: false, node: null};

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

function svg(tag, attrs) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}

// protobuf's JSON mapping: 64-bit integers are strings, defaults are omitted, inf is "Infinity".
function num(x) {
  if (x === undefined || x === null) return 0;
  const n = Number(x);
  return Number.isNaN(n) ? 0 : n;
}

function fmt(x) {
  const n = num(x);
  if (!Number.isFinite(n)) return '–';
  if (n === 0) return '0';
  const a = Math.abs(n);
  return a >= 1e4 || a < 1e-3 ? n.toExponential(3) : n.toPrecision(4);
}

// A state as people read it: FAILED_STATE (the enum's spelling, protobuf's scoping) is FAILED.
function stateName(state) {
  return (state || '').replace(/_STATE$/, '');
}

// An objective's label on this page, which shows stored values: its ObjectiveDisplay's label (or
// name), "log10 ..." when the stored value is log10 of the quantity, and its unit.
function objectiveLabel(display) {
  const d = display || {};
  const label = d.label || d.name || 'objective';
  return (d.scale === 'LOG10' ? 'log10 ' : '') + label + (d.unit ? ` (${d.unit})` : '');
}

function hitRate(cache) {
  cache = cache || {};
  const hits = num(cache.hits), lookups = hits + num(cache.misses);
  return lookups > 0 ? (100 * hits / lookups).toFixed(1) + '%' : '–';
}

function progressCell(job) {
  const p = job.progress || {};
  const done = num(p.evaluations), budget = num(p.budget_evaluations);
  const frac = budget > 0 ? Math.min(1, done / budget) : 0;
  const bar = el('span', {class: 'bar'}, el('span', {style: 'width:' + (100 * frac).toFixed(1) + '%'}));
  return el('td', {class: 'num progress', 'data-evaluations': String(done)}, bar,
            budget > 0 ? `${done}/${budget}` : String(done));
}

async function getJson(path) {
  const response = await fetch(path, {cache: 'no-store'});
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || response.statusText);
  return body;
}

function workersTable(workers) {
  const table = el('table', {id: 'workers'},
    el('tr', {}, el('th', {}, 'worker'), el('th', {}, 'host'), el('th', {}, 'device'),
       el('th', {}, 'slots'), el('th', {}, 'load'), el('th', {}, 'evaluations'),
       el('th', {}, 'last seen')));
  for (const w of workers || []) {
    const info = w.info || {};
    const seen = num(w.last_seen_unix_ms);
    const ago = seen > 0 ? `${Math.max(0, Math.round((Date.now() - seen) / 1000))} s ago` : '';
    table.appendChild(el('tr', {}, el('td', {}, info.id || ''), el('td', {}, info.host || ''),
      el('td', {}, info.device || ''),
      el('td', {class: 'num'}, String(num(info.slots))),
      el('td', {class: 'num'}, `${num(w.busy)}/${num(info.slots)}`),
      el('td', {class: 'num'}, String(num(w.evaluations))), el('td', {class: 'num'}, ago)));
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
      progressCell(job), el('td', {class: 'num'}, fmt(p.best_objective)),
      el('td', {class: 'num'}, fmt(p.evals_per_second)),
      el('td', {class: 'num'}, hitRate(p.cache))));
  }
  // replaceChildren, unlike el(), would turn a null into the text "null".
  const nodes = [el('h1', {}, 'Jobs'), table];
  if (!(jobs.jobs || []).length) nodes.push(el('p', {class: 'muted'}, 'no jobs yet'));
  main.replaceChildren(...nodes, el('h2', {}, 'Workers'), workersTable(workers.workers));
}

// A line chart of points [{x, y}] with a dot per point; log scale on y when values span decades.
function lineChart(points, xLabel, yLabel, id) {
  const W = 640, H = 280, L = 70, R = 16, T = 14, B = 36;
  const root = svg('svg', {class: 'chart', id, width: W, height: H, viewBox: `0 0 ${W} ${H}`});
  if (!points.length) {
    const t = svg('text', {x: L, y: H / 2});
    t.textContent = 'no data yet';
    root.appendChild(t);
    return root;
  }
  const xs = points.map(p => p.x), ys = points.map(p => p.y);
  const positive = ys.every(y => y > 0);
  const log = positive && Math.max(...ys) / Math.min(...ys) > 100;
  const fy = y => (log ? Math.log10(y) : y);
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys.map(fy)), y1 = Math.max(...ys.map(fy));
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y1 += 1; y0 -= 1; }
  const sx = x => L + (x - x0) / (x1 - x0) * (W - L - R);
  const sy = y => T + (1 - (fy(y) - y0) / (y1 - y0)) * (H - T - B);
  root.appendChild(svg('line', {class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B}));
  root.appendChild(svg('line', {class: 'axis', x1: L, y1: T, x2: L, y2: H - B}));
  const label = (x, y, text, anchor) => {
    const t = svg('text', {x, y, 'text-anchor': anchor || 'start'});
    t.textContent = text;
    root.appendChild(t);
  };
  label(L, H - 8, String(x0));
  label(W - R, H - 8, String(x1), 'end');
  label((L + W - R) / 2, H - 8, xLabel, 'middle');
  label(4, T + 10, fmt(log ? 10 ** y1 : y1));
  label(4, H - B, fmt(log ? 10 ** y0 : y0));
  label(4, (T + H - B) / 2, yLabel + (log ? ' (log)' : ''));
  root.appendChild(svg('polyline', {class: 'line',
    points: points.map(p => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}));
  for (const p of points) {
    root.appendChild(svg('circle', {class: 'pt', cx: sx(p.x).toFixed(1), cy: sy(p.y).toFixed(1), r: 2.5}));
  }
  return root;
}

function card(label, value, id) {
  return el('div', {class: 'card'}, el('div', {class: 'muted'}, label), el('div', {class: 'v', id}, value));
}

function evalRows(rows, names) {
  const table = el('table', {},
    el('tr', {}, el('th', {}, 'index'), el('th', {}, 'key'), el('th', {}, 'cache hit'),
       ...names.map(n => el('th', {}, n)), el('th', {}, 'status')));
  for (const r of rows || []) {
    const e = r.evaluation || {};
    const objectives = (e.objectives || []).map(v => el('td', {class: 'num'}, fmt(v)));
    table.appendChild(el('tr', {}, el('td', {class: 'num'}, String(num(r.index))),
      el('td', {class: 'muted'}, (r.key_hex || '').slice(0, 12)),
      el('td', {}, r.cache_hit ? 'yes' : 'no'), ...objectives, el('td', {}, e.status || '')));
  }
  return table;
}

function reportSection(body) {
  const figures = (body.figures || []).map(f => el('figure', {class: 'report-figure'},
    // The query only defeats the browser's cache: the server serves the latest report's figure.
    el('img', {src: f.url + '?history=' + num(body.history_size), alt: f.caption || f.name}),
    el('figcaption', {}, f.caption || f.name)));
  return el('div', {id: 'report'}, el('pre', {id: 'report-text'}, body.text || ''),
            figures.length ? el('div', {class: 'report-figures'}, ...figures) : null);
}

function refreshReport(id, historySize) {
  if (report.jobId !== id) {
    Object.assign(report, {jobId: id, historySize: -1, fetchedAt: 0, node: null});
  }
  if (report.pending || historySize === report.historySize) return;
  if (report.node && Date.now() - report.fetchedAt < REPORT_MS) return;
  report.pending = true;
  report.fetchedAt = Date.now();
  getJson('/api/jobs/' + encodeURIComponent(id) + '/report')
    .then(body => reportSection(body))
    .catch(err => el('div', {id: 'report'}, el('p', {class: 'error'}, 'no report: ' + err.message)))
    .then(node => {
      if (report.jobId !== id) return;  // the page moved on to another job meanwhile
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
      card('best ' + names[0], fmt(p.best_objective), 'best-objective'),
      card('evals/s', fmt(p.evals_per_second)),
      card('cache hits', String(num(cache.hits))), card('cache misses', String(num(cache.misses))),
      card('hit rate', hitRate(cache)), card('collisions', String(num(cache.collisions))),
      card('eval-seconds saved', fmt(cache.eval_seconds_saved))),
    el('h2', {}, `Best ${names[0]} vs evaluations`),
    lineChart((detail.best_curve || []).map(c => ({x: num(c.evaluations), y: num(c.best_objective)})),
              'evaluations', names[0], 'best-chart'),
  ];
  if (names.length > 1) {
    const front = (detail.pareto_front || []).map(r => {
      const o = (r.evaluation || {}).objectives || [];
      return {x: num(o[1]), y: num(o[0])};
    }).sort((a, b) => a.x - b.x);
    nodes.push(el('h2', {}, `Pareto front (${names[0]} vs ${names[1]})`),
               lineChart(front, names[1], names[0], 'pareto-chart'));
  }
  if (detail.best) {
    nodes.push(el('h2', {}, 'Best candidate'), el('pre', {id: 'best-candidate'}, detail.best.rendered || ''));
  }
  // recent is newest first: its first row's index + 1 is the checkpointed history's size.
  const recent = detail.recent || [];
  refreshReport(id, recent.length ? num(recent[0].index) + 1 : 0);
  nodes.push(el('h2', {}, 'Report'), report.node || el('p', {class: 'muted'}, 'drawing the report…'));
  nodes.push(el('h2', {}, 'Recent evaluations'), evalRows(detail.recent, names),
             el('h2', {}, 'Workers'), workersTable(workers.workers));
  main.replaceChildren(...nodes.filter(n => n !== null));  // a null would show as "null"
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
