// The live plots: polls GET /metrics (Prometheus text), keeps the last five minutes of
// samples in memory and draws four plots as hand-made SVG. No build step, no library.

var POLL_MS = 2000;
var KEEP_MS = 5 * 60 * 1000;
var MIN_SPAN_MS = 60 * 1000;
/** A longer silence than this between two samples breaks the lines. */
var GAP_MS = 5 * POLL_MS;
var QUANTILES = [
  { key: 'p50', q: 0.5, color: '#1f6fd1' },
  { key: 'p90', q: 0.9, color: '#e07b00' },
  { key: 'p99', q: 0.99, color: '#c62828' },
];
var PALETTE = ['#1f6fd1', '#e07b00', '#2e9d4a', '#c62828', '#7b4fc4', '#8a5a2b', '#d1479b', '#0f9aa8'];
var MAX_PARTITION_LINES = 8;
var SVG_NS = 'http://www.w3.org/2000/svg';

// --- Prometheus text format -------------------------------------------------

function parseValue(s) {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  return Number(s);
}

/** One sample line's `{a="x",b="y"}` starting at `line[i] === '{'`; returns [labels, index after '}']. */
function parseLabels(line, i) {
  var labels = {};
  i++;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === '}') return [labels, i + 1];
    var m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
    if (!m) throw new Error('bad label name');
    var name = m[0];
    i += name.length;
    while (line[i] === ' ') i++;
    if (line[i] !== '=') throw new Error('expected =');
    i++;
    while (line[i] === ' ') i++;
    if (line[i] !== '"') throw new Error('expected "');
    i++;
    var value = '';
    while (i < line.length && line[i] !== '"') {
      if (line[i] === '\\' && i + 1 < line.length) {
        var next = line[i + 1];
        value += next === 'n' ? '\n' : next;
        i += 2;
      } else {
        value += line[i++];
      }
    }
    if (line[i] !== '"') throw new Error('unterminated label value');
    i++;
    labels[name] = value;
    while (line[i] === ' ') i++;
    if (line[i] === ',') i++;
  }
}

/** `{ samples: [{ name, labels, value }], types: { family: 'counter' | ... } }`; bad lines are skipped. */
function parsePrometheus(text) {
  var samples = [];
  var types = {};
  var lines = text.split('\n');
  for (var n = 0; n < lines.length; n++) {
    var line = lines[n].trim();
    if (!line) continue;
    if (line[0] === '#') {
      var t = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (t) types[t[1]] = t[2];
      continue;
    }
    try {
      var m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
      if (!m) continue;
      var name = m[0];
      var i = name.length;
      var labels = {};
      if (line[i] === '{') {
        var parsed = parseLabels(line, i);
        labels = parsed[0];
        i = parsed[1];
      }
      var rest = line.slice(i).trim().split(/\s+/);
      if (!rest[0]) continue;
      samples.push({ name: name, labels: labels, value: parseValue(rest[0]) });
    } catch (e) {
      // A line this parser does not understand: skip it, keep the rest.
    }
  }
  return { samples: samples, types: types };
}

// --- one sample: the figures the plots need ---------------------------------

function summarize(parsed, t) {
  var s = {
    t: t,
    time: new Date(t).toISOString(),
    connections: null,
    connectionsByNode: {},
    sendsAccepted: 0,
    latency: null,
    lagByPartition: {},
    lag: null,
    samples: parsed.samples,
  };
  var buckets = {};
  var latencyCount = null;
  var latencySum = 0;
  parsed.samples.forEach(function (x) {
    switch (x.name) {
      case 'chat_connections':
        s.connections = (s.connections || 0) + x.value;
        var node = x.labels.node || '';
        s.connectionsByNode[node] = (s.connectionsByNode[node] || 0) + x.value;
        break;
      case 'chat_sends_total':
        if (x.labels.result === 'accepted') s.sendsAccepted += x.value;
        break;
      case 'chat_delivery_latency_seconds_bucket':
        buckets[x.labels.le] = (buckets[x.labels.le] || 0) + x.value;
        break;
      case 'chat_delivery_latency_seconds_count':
        latencyCount = (latencyCount || 0) + x.value;
        break;
      case 'chat_delivery_latency_seconds_sum':
        latencySum += x.value;
        break;
      case 'chat_projection_lag_events':
        var p = x.labels.partition || '';
        s.lagByPartition[p] = (s.lagByPartition[p] || 0) + x.value;
        s.lag = (s.lag || 0) + x.value;
        break;
    }
  });
  // A labelled gauge that no series has set yet is declared but has no lines: zero in sum.
  if (s.connections === null && parsed.types.chat_connections) s.connections = 0;
  if (s.lag === null && parsed.types.chat_projection_lag_events) s.lag = 0;
  var les = Object.keys(buckets);
  if (les.length || latencyCount !== null) {
    s.latency = {
      buckets: les
        .map(function (le) { return { le: parseValue(le), count: buckets[le] }; })
        .sort(function (a, b) { return a.le - b.le; }),
      count: latencyCount || 0,
      sum: latencySum,
    };
  }
  return s;
}

/** A counter's increase between two samples; a drop means the process restarted. */
function increase(prev, cur) {
  var d = cur - prev;
  return d < 0 ? cur : d;
}

/**
 * Quantile q of what the histogram observed between two samples, in seconds: the bucket
 * deltas, linear interpolation inside the bucket that holds the rank (as Prometheus's
 * histogram_quantile does). null when nothing was observed in between.
 */
function intervalQuantile(prev, cur, q) {
  if (!prev || !cur) return null;
  var before = {};
  prev.buckets.forEach(function (b) { before[b.le] = b.count; });
  var cum = [];
  var running = 0;
  cur.buckets.forEach(function (b) {
    var d = increase(before[b.le] || 0, b.count);
    running = Math.max(running, d); // cumulative counts never go down
    cum.push({ le: b.le, count: running });
  });
  if (!cum.length) return null;
  var total = cum[cum.length - 1].count;
  if (!(total > 0)) return null;
  var rank = q * total;
  for (var i = 0; i < cum.length; i++) {
    if (cum[i].count >= rank) {
      var upper = cum[i].le;
      var lower = i === 0 ? 0 : cum[i - 1].le;
      if (upper === Infinity) return lower; // beyond the last finite bound: the bound is the best answer
      var countBefore = i === 0 ? 0 : cum[i - 1].count;
      var inBucket = cum[i].count - countBefore;
      if (inBucket <= 0) return upper;
      if (i === 0 && upper <= 0) return upper;
      return lower + (upper - lower) * ((rank - countBefore) / inBucket);
    }
  }
  return cum[cum.length - 1].le;
}

// --- history ------------------------------------------------------------------

/** Each point: the sample's figures plus those derived from the previous sample. */
var history = [];

function addSample(s) {
  var prev = history.length ? history[history.length - 1] : null;
  var point = { t: s.t, sample: s, connections: s.connections, lag: s.lag, lagByPartition: s.lagByPartition, rate: null };
  QUANTILES.forEach(function (x) { point[x.key] = null; });
  if (prev) {
    var dt = (s.t - prev.t) / 1000;
    if (dt > 0) point.rate = increase(prev.sample.sendsAccepted, s.sendsAccepted) / dt;
    QUANTILES.forEach(function (x) {
      var v = intervalQuantile(prev.sample.latency, s.latency, x.q);
      point[x.key] = v === null ? null : v * 1000;
    });
  }
  history.push(point);
  while (history.length > 2 && history[0].t < s.t - KEEP_MS) history.shift();
}

// --- formatting -----------------------------------------------------------------

function pad2(n) { return n < 10 ? '0' + n : String(n); }

function clock(t) {
  var d = new Date(t);
  return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
}

function fmt(v) {
  if (v === null || v === undefined || !isFinite(v)) return '–';
  var a = Math.abs(v);
  if (a === 0) return '0';
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return String(Math.round(v));
  if (a >= 1) return v.toFixed(1);
  return v.toPrecision(2);
}

function fmtTick(v, step) {
  var decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
  var s = v.toFixed(decimals);
  return Math.abs(v) >= 1000 ? Number(s).toLocaleString('en-US') : s;
}

function niceStep(raw) {
  if (!(raw > 0)) return 1;
  var p = Math.pow(10, Math.floor(Math.log10(raw)));
  var f = raw / p;
  var nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nice * p;
}

// --- SVG plot -----------------------------------------------------------------------

function el(name, attrs, text) {
  var e = document.createElementNS(SVG_NS, name);
  for (var k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * Draws `series` ([{ label, color, points: [[t, v | null]] }]) into `container` between
 * t0 and t1, y from 0. Returns the number of data paths drawn.
 */
function drawPlot(container, opts) {
  var width = Math.max(240, container.clientWidth || 480);
  var height = Math.max(160, container.clientHeight || 250);
  var legend = opts.series.length > 1 || opts.legend;
  var m = { left: 58, right: 14, top: legend ? 28 : 12, bottom: 42 };
  var w = width - m.left - m.right;
  var h = height - m.top - m.bottom;
  var svg = el('svg', { viewBox: '0 0 ' + width + ' ' + height, width: width, height: height, role: 'img', 'aria-label': opts.title });

  var maxV = 0;
  var minPos = Infinity;
  var any = false;
  opts.series.forEach(function (s) {
    s.points.forEach(function (p) {
      if (p[1] !== null && isFinite(p[1])) {
        any = true;
        if (p[1] > maxV) maxV = p[1];
        if (p[1] > 0 && p[1] < minPos) minPos = p[1];
      }
    });
  });
  var t0 = opts.t0;
  var t1 = opts.t1;
  var x = function (t) { return m.left + ((t - t0) / (t1 - t0)) * w; };
  var y;
  var yTicks = [];
  if (opts.log) {
    // Log scale (latency): whole decades around the data, at least one.
    var lo = Math.floor(Math.log10(minPos === Infinity ? 1 : minPos * 0.95));
    var hi = Math.ceil(Math.log10(Math.max(maxV, Math.pow(10, lo + 1))));
    if (hi <= lo) hi = lo + 1;
    var yMinLog = Math.pow(10, lo);
    y = function (v) { return m.top + h - ((Math.log10(Math.max(v, yMinLog)) - lo) / (hi - lo)) * h; };
    for (var k = lo; k <= hi; k++) {
      var mults = hi - lo <= 3 ? [1, 2, 5] : [1];
      mults.forEach(function (mult) {
        var tv = mult * Math.pow(10, k);
        if (tv <= Math.pow(10, hi) * 1.0001) yTicks.push({ v: tv, label: fmtTick(tv, Math.min(1, Math.pow(10, k))), major: mult === 1 });
      });
    }
  } else {
    var top = Math.max(maxV * 1.05, opts.minMax || 1);
    var yStep = niceStep(top / 4);
    if (opts.integer) yStep = Math.max(1, Math.round(yStep));
    var yMax = Math.ceil(top / yStep) * yStep;
    y = function (v) { return m.top + h - (v / yMax) * h; };
    for (var tv = 0; tv <= yMax + yStep / 1000; tv += yStep) yTicks.push({ v: tv, label: fmtTick(tv, yStep), major: true });
  }

  // Horizontal grid and y ticks.
  yTicks.forEach(function (tick, n) {
    var yy = Math.round(y(tick.v)) + 0.5;
    svg.appendChild(el('line', { class: n === 0 ? 'axis' : tick.major ? 'gridline' : 'gridline minor', x1: m.left, x2: m.left + w, y1: yy, y2: yy }));
    svg.appendChild(el('text', { class: 'tick', x: m.left - 6, y: yy + 4, 'text-anchor': 'end' }, tick.label));
  });
  // Vertical grid and time ticks, aligned to the clock.
  var steps = [5, 10, 15, 30, 60, 120, 300].map(function (s) { return s * 1000; });
  var maxTicks = Math.max(2, Math.floor(w / 80));
  var tStep = steps[steps.length - 1];
  for (var i = 0; i < steps.length; i++) {
    if ((t1 - t0) / steps[i] <= maxTicks) { tStep = steps[i]; break; }
  }
  for (var t = Math.ceil(t0 / tStep) * tStep; t <= t1; t += tStep) {
    var xx = Math.round(x(t)) + 0.5;
    svg.appendChild(el('line', { class: 'gridline', x1: xx, x2: xx, y1: m.top, y2: m.top + h }));
    svg.appendChild(el('line', { class: 'axis', x1: xx, x2: xx, y1: m.top + h, y2: m.top + h + 4 }));
    if (xx + 26 <= width) svg.appendChild(el('text', { class: 'tick', x: xx, y: m.top + h + 16, 'text-anchor': 'middle' }, clock(t)));
  }
  svg.appendChild(el('line', { class: 'axis', x1: m.left + 0.5, x2: m.left + 0.5, y1: m.top, y2: m.top + h }));

  // Axis labels with units.
  svg.appendChild(el('text', { class: 'axis-label', x: m.left + w / 2, y: height - 6, 'text-anchor': 'middle' }, 'time (local clock, hh:mm:ss)'));
  var ly = m.top + h / 2;
  svg.appendChild(el('text', { class: 'axis-label', x: 13, y: ly, 'text-anchor': 'middle', transform: 'rotate(-90 13 ' + ly + ')' }, opts.yLabel));

  // The lines: a gap where a value is missing or samples are too far apart.
  var drawn = 0;
  opts.series.forEach(function (s) {
    var d = '';
    var prevT = null;
    var open = false;
    var last = null;
    var runLength = 0;
    s.points.forEach(function (p) {
      var value = p[1];
      if (value === null || !isFinite(value) || p[0] < t0) {
        if (open && runLength === 1) d += ' l0,0';
        open = false;
        return;
      }
      var px = x(p[0]).toFixed(1);
      var py = y(value).toFixed(1);
      if (open && prevT !== null && p[0] - prevT <= GAP_MS) {
        d += ' L' + px + ',' + py;
        runLength++;
      } else {
        if (open && runLength === 1) d += ' l0,0';
        d += (d ? ' M' : 'M') + px + ',' + py;
        runLength = 1;
      }
      open = true;
      prevT = p[0];
      last = [px, py];
    });
    if (open && runLength === 1) d += ' l0,0';
    if (!d) return;
    svg.appendChild(el('path', { class: 'series', d: d, stroke: s.color, 'data-series': s.label }));
    if (last) svg.appendChild(el('circle', { cx: last[0], cy: last[1], r: 3, fill: s.color }));
    drawn++;
  });

  if (!any) {
    svg.appendChild(el('text', { class: 'empty', x: m.left + w / 2, y: m.top + h / 2, 'text-anchor': 'middle' }, opts.emptyText || 'no data yet'));
  }

  container.replaceChildren(svg);

  // Legend (for several lines, or when asked), right-aligned; measured once the SVG is in the page.
  if (legend) {
    var lx = m.left + w;
    for (var j = opts.series.length - 1; j >= 0; j--) {
      var s = opts.series[j];
      var label = el('text', { class: 'legend', x: lx, y: 16, 'text-anchor': 'end' }, s.label);
      svg.appendChild(label);
      var labelWidth = label.getComputedTextLength ? label.getComputedTextLength() : s.label.length * 7;
      svg.appendChild(el('line', { x1: lx - labelWidth - 20, x2: lx - labelWidth - 5, y1: 12, y2: 12, stroke: s.color, 'stroke-width': 3 }));
      lx -= labelWidth + 34;
    }
  }
  return drawn;
}

// --- the four plots -------------------------------------------------------------

function setCurrent(id, html) {
  document.querySelector('#' + id + ' [data-current]').innerHTML = html;
}

function b(v) { return '<b>' + fmt(v) + '</b>'; }

function render() {
  if (!history.length) return;
  var first = history[0];
  var last = history[history.length - 1];
  var t0 = Math.max(first.t, last.t - KEEP_MS);
  var t1 = Math.max(last.t, t0 + MIN_SPAN_MS);
  var window_ = { t0: t0, t1: t1 };
  var pts = function (key) { return history.map(function (p) { return [p.t, p[key]]; }); };
  var chart = function (id) { return document.querySelector('#' + id + ' .chart'); };

  // (a) open connections, summed over gateway nodes.
  var nodes = Object.keys(last.sample.connectionsByNode).length;
  setCurrent('plot-connections', last.connections === null ? 'no data' : b(last.connections) + (nodes > 1 ? ' on ' + nodes + ' nodes' : ''));
  drawPlot(chart('plot-connections'), Object.assign({
    title: 'Open connections',
    yLabel: 'connections (count)',
    integer: true,
    series: [{ label: 'connections', color: PALETTE[0], points: pts('connections') }],
    emptyText: 'no chat_connections samples',
  }, window_));

  // (b) accepted messages per second between consecutive samples.
  setCurrent('plot-messages', last.rate === null ? 'waiting for a second sample' : b(last.rate) + ' msg/s');
  drawPlot(chart('plot-messages'), Object.assign({
    title: 'Messages accepted per second',
    yLabel: 'messages / s',
    series: [{ label: 'accepted', color: PALETTE[2], points: pts('rate') }],
  }, window_));

  // (c) delivery latency percentiles over the last interval, in ms.
  setCurrent('plot-latency', last.p50 === null
    ? (history.length < 2 ? 'waiting for a second sample' : 'no deliveries in the last interval')
    : QUANTILES.map(function (x) { return x.key + ' ' + b(last[x.key]); }).join(' · ') + ' ms');
  drawPlot(chart('plot-latency'), Object.assign({
    title: 'Delivery latency',
    yLabel: 'latency (ms, log scale)',
    log: true,
    series: QUANTILES.map(function (x) { return { label: x.key, color: x.color, points: pts(x.key) }; }),
    emptyText: 'no deliveries yet',
  }, window_));

  // (d) projection lag: one line per partition (or their sum when there are many).
  var partitions = {};
  history.forEach(function (p) { Object.keys(p.lagByPartition).forEach(function (k) { partitions[k] = true; }); });
  var names = Object.keys(partitions).sort(function (a, c) { return Number(a) - Number(c) || (a < c ? -1 : a > c ? 1 : 0); });
  var lagSeries = names.length > MAX_PARTITION_LINES || names.length === 0
    ? [{ label: 'all partitions', color: PALETTE[4], points: pts('lag') }]
    : names.map(function (k, i) {
        return {
          label: 'partition ' + k,
          color: PALETTE[i % PALETTE.length],
          points: history.map(function (p) { var v = p.lagByPartition[k]; return [p.t, v === undefined ? null : v]; }),
        };
      });
  setCurrent('plot-lag', last.lag === null ? 'no data' : b(last.lag) + ' events' + (names.length > 1 ? ' over ' + names.length + ' partitions' : ''));
  drawPlot(chart('plot-lag'), Object.assign({
    title: 'Projection lag',
    yLabel: 'events not yet projected',
    integer: true,
    legend: true,
    series: lagSeries,
    emptyText: 'no chat_projection_lag_events samples',
  }, window_));

  document.getElementById('last-sample').textContent = clock(last.t);
  document.getElementById('last-sample').setAttribute('datetime', new Date(last.t).toISOString());
  if (history.length >= 2) document.body.dataset.ready = 'true';
}

// --- polling ----------------------------------------------------------------------

function showStatus(text) {
  var status = document.getElementById('status');
  if (text) {
    status.textContent = text;
    status.hidden = false;
  } else {
    status.hidden = true;
    status.textContent = '';
  }
}

async function poll() {
  var started = Date.now();
  try {
    var res = await fetch('/metrics', { cache: 'no-store', headers: { accept: 'text/plain' } });
    if (!res.ok) throw new Error('HTTP ' + res.status + (res.statusText ? ' ' + res.statusText : ''));
    var text = await res.text();
    var sample = summarize(parsePrometheus(text), Date.now());
    window.__lastSample = sample;
    addSample(sample);
    showStatus('');
    render();
  } catch (err) {
    showStatus('GET /metrics failed at ' + clock(Date.now()) + ': ' + (err && err.message ? err.message : String(err)) + ' — retrying every 2 s');
  } finally {
    setTimeout(poll, Math.max(0, POLL_MS - (Date.now() - started)));
  }
}

var resizeTimer = null;

/** Starts polling /metrics; the plots follow the window's width. */
export function startLive() {
  window.__parsePrometheus = parsePrometheus;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(render, 100);
  });
  poll();
}

/** Draws the plots again at the current size (after their tab is shown again). */
export { render as renderLive };
