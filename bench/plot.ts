/**
 * A small SVG line chart (no dependencies): send-to-deliver latency percentiles against
 * offered load, log-scaled latency, one line per series.
 */
export interface Series {
  name: string;
  color: string;
  /** An SVG stroke-dasharray ("5 3"); a solid line without it. */
  dash?: string;
  points: Array<[number, number]>;
}

export function latencyPlot(title: string, series: Series[], limitMs: number): string {
  const W = 760;
  const H = 420;
  const m = { l: 70, r: 190, t: 40, b: 55 };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((y) => y > 0);
  const xMax = niceCeil(Math.max(...xs, 1));
  const yMin = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...ys, limitMs))));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys, limitMs)));
  const x = (v: number) => m.l + (v / xMax) * (W - m.l - m.r);
  const y = (v: number) => H - m.b - ((Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (H - m.t - m.b);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - m.r / 2 + m.l / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (xMax / 5) * i;
    out.push(`<line x1="${x(v)}" y1="${m.t}" x2="${x(v)}" y2="${H - m.b}" stroke="#eee"/>`, `<text x="${x(v)}" y="${H - m.b + 18}" text-anchor="middle">${Math.round(v)}</text>`);
  }
  for (let d = yMin; d <= yMax; d *= 10) {
    out.push(`<line x1="${m.l}" y1="${y(d)}" x2="${W - m.r}" y2="${y(d)}" stroke="#ddd"/>`, `<text x="${m.l - 8}" y="${y(d) + 4}" text-anchor="end">${d >= 1 ? d : d.toFixed(1)}</text>`);
  }
  out.push(
    `<line x1="${m.l}" y1="${y(limitMs)}" x2="${W - m.r}" y2="${y(limitMs)}" stroke="#c00" stroke-dasharray="6 4"/>`,
    `<text x="${W - m.r - 4}" y="${y(limitMs) - 5}" text-anchor="end" fill="#c00">p99 limit ${limitMs} ms</text>`,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">offered load (sends/s)</text>`,
    `<text transform="translate(18 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">send-to-deliver latency (ms, log scale)</text>`,
    `<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#888"/>`,
  );
  series.forEach((s, i) => {
    const d = s.points.map(([px, py], k) => `${k ? 'L' : 'M'}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    for (const [px, py] of s.points) out.push(`<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = m.t + 14 + i * 20;
    out.push(
      `<line x1="${W - m.r + 12}" y1="${ly - 4}" x2="${W - m.r + 36}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      `<text x="${W - m.r + 42}" y="${ly}">${escape(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * p >= v) return f * p;
  return 10 * p;
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}
