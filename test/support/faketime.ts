import { existsSync } from 'node:fs';

/** Where Debian's libfaketime package (installed by deploy/local/services.sh) puts the library. */
const CANDIDATES = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'];

/**
 * Environment that runs a child process (and its children) with its wall clock shifted by
 * `offset` (libfaketime syntax: `+10m`, `-90s`). Monotonic clocks are left alone, so timers
 * behave; only what reads the time of day (Date, token checks, lease times) is off.
 */
export function skewedClockEnv(offset: string): Record<string, string> {
  const lib = CANDIDATES.find((p) => existsSync(p));
  if (!lib) throw new Error('libfaketime is missing: run deploy/local/services.sh (it installs the faketime package)');
  return { LD_PRELOAD: lib, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}
