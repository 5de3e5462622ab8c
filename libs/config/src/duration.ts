const UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses docs/protocol.md durations (`500ms`, `5s`, `10m`, `2h`, `30d`) into milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNITS_MS[match[2]!]!;
  return Number.isSafeInteger(ms) ? ms : undefined;
}
