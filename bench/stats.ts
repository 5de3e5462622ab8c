/** Percentiles and rounding for the benchmark's tables. */

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  n: number;
}

export function percentiles(xs: number[]): Percentiles {
  const s = Float64Array.from(xs).sort();
  const a = Array.from(s);
  return { p50: percentile(a, 50), p90: percentile(a, 90), p99: percentile(a, 99), max: a[a.length - 1] ?? NaN, n: a.length };
}

export const round = (x: number, digits = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : null);

/** A markdown table. */
export function table(head: string[], rows: Array<Array<string | number | null>>): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map((c) => (c === null ? '-' : String(c))).join(' | ')} |`)].join('\n');
}
