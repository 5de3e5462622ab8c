/**
 * A seeded random source for fault schedules (mulberry32): a failing run prints its seed,
 * and FAULT_SEED=<seed> replays the same schedule.
 */
export function seededRandom(label: string): { seed: number; next(): number; int(min: number, max: number): number } {
  const seed = process.env.FAULT_SEED ? Number(process.env.FAULT_SEED) : Math.floor(Math.random() * 2 ** 31);
  // Printed up front: the seed is what makes a failure reproducible.
  process.stdout.write(`${label}: FAULT_SEED=${seed}\n`);
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next, int: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}
