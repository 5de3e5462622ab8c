/**
 * `npm run bench [-- --quick] [-- --split] [-- --only chat,groups,...]`: the benchmark.
 * Starts the system (one all-in-one process, or with --split a projector and two
 * gateways), drives it from several load processes, measures the ceilings and the naive
 * baseline in the same run, prints tables (the previous run's headline beside this
 * one's, and the goals), and writes bench/results/latest.json (latest-quick.json for
 * --quick), latest.md and latency.svg.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { BenchNamespace, ROOT, sharedServicePorts, startProcess, startSystem, stopProcess } from './bench-system';
import { CpuMeter, sharedServices, ticksPerSecond } from './cpu';
import { goals, goalsTable } from './goals';
import { headlineKeys, headlineOf, headlineTable, readPrevious } from './headline';
import { latencyPlot } from './plot';
import { summarizeProfiles } from './profile';
import { connectionsScenario } from './scenarios/connections';
import { groups, type GroupRow } from './scenarios/groups';
import { defaultLimits, heavySender, type HeavySenderResult } from './scenarios/heavy-sender';
import { naiveBaseline } from './scenarios/naive-baseline';
import { oneToOne, type OneToOneResult } from './scenarios/one-to-one';
import { P99_LIMIT_MS, type RateStep } from './scenarios/rate-steps';
import { reconnectStorm } from './scenarios/reconnect-storm';
import { replayScenario } from './scenarios/replay';
import { searchScenario } from './scenarios/search';
import { tiersScenario } from './scenarios/tiers';
import { round, table } from './stats';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const split = args.includes('--split');
const ALL = ['relay', 'naive', 'chat', 'groups', 'heavy', 'storm', 'connections', 'replay', 'tiers', 'profile', 'search'] as const;
type Phase = (typeof ALL)[number];
const onlyArg = args[args.indexOf('--only') + 1];
// `search` loads a million rows (minutes): only when asked for (`--only search`), so the full run keeps its 15 minutes.
const phases: readonly Phase[] = args.includes('--only') && onlyArg ? (onlyArg.split(',') as Phase[]) : ALL.filter((p) => (p !== 'profile' || !quick) && p !== 'search');
const unknown = phases.filter((p) => !ALL.includes(p));
if (unknown.length) {
  process.stderr.write(`bench: unknown phase ${unknown.join(', ')} (phases: ${ALL.join(', ')})\n`);
  process.exit(2);
}
const RESULTS = join(ROOT, 'bench', 'results');
const stem = args.includes('--only') ? `only-${phases.join('-')}` : quick ? 'latest-quick' : 'latest';
const started = Date.now();
const say = (line: string) => process.stdout.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);

/** Sizes of each scenario: the full run stays within 15 minutes, --quick within 3. */
const SIZE = quick
  ? { workers: 2, pairs: 400, stepSeconds: 2, halfSeconds: 4, groupSeconds: 3, groupUsers: 500, groupRate: 20, storm: 2_000, heavyPairs: 1_000, heavyRate: 200, heavySeconds: 5, connections: 3_000, replayEvents: 10_000, tierMessages: 4_000, tierReads: 100 }
  : { workers: 3, pairs: 600, stepSeconds: 4, halfSeconds: 10, groupSeconds: 6, groupUsers: 500, groupRate: 20, storm: 5_000, heavyPairs: 1_000, heavyRate: 300, heavySeconds: 10, connections: 15_000, replayEvents: 40_000, tierMessages: 20_000, tierReads: 300 };

async function main(): Promise<void> {
  const results: Record<string, unknown> = {};
  const md: string[] = [];
  const wants = (p: Phase) => phases.includes(p);
  say(`${quick ? 'quick' : 'full'} run, system ${split ? 'split (projector + 2 gateways)' : 'all-in-one'}, phases: ${phases.join(', ')}`);
  // Read before this run overwrites it.
  const previous = readPrevious(join(RESULTS, `${stem}.json`));
  say(previous ? `previous run of bench/results/${stem}.json: ${previous.at ?? 'undated'}` : `no previous bench/results/${stem}.json`);
  const services = sharedServices(sharedServicePorts());
  say(`CPU per delivery from /proc (${ticksPerSecond()} ticks/s); shared services: ${services.map((s) => `${s.name} ${s.pids.length ? s.pids.join(',') : 'not found'}${s.byPort ? '' : ' (by name only)'}`).join('; ')}`);

  let relay: OneToOneResult | undefined;
  if (wants('relay')) {
    say('ceiling: raw Socket.IO relay (a bare server forwarding to a room)');
    const bare = await startProcess('bare', 'dist/bench/bare-socketio.js', {});
    try {
      relay = await oneToOne({ urls: [bare.url], target: 'relay', pairs: SIZE.pairs, workers: SIZE.workers, seconds: SIZE.stepSeconds, halfSeconds: SIZE.halfSeconds, start: 500, cpu: new CpuMeter([bare.child.pid!], services) }, say);
    } finally {
      await stopProcess(bare);
    }
  }

  let naive: Awaited<ReturnType<typeof naiveBaseline>> | undefined;
  if (wants('naive')) {
    say('baseline: naive Socket.IO server (one awaited Postgres INSERT per message, then the relay to the room)');
    naive = await naiveBaseline({ pairs: SIZE.pairs, workers: SIZE.workers, seconds: SIZE.stepSeconds, halfSeconds: SIZE.halfSeconds, start: 200, services }, say);
  }

  let chat: OneToOneResult | undefined;
  let groupRows: Record<'push' | 'pull' | 'threads', GroupRow[]> | undefined;
  if (wants('chat') || wants('groups') || wants('storm')) {
    const ns = new BenchNamespace();
    try {
      say(`system: ${split ? 'projector + 2 gateways' : 'all-in-one'}`);
      const system = await startSystem(ns, { split });
      try {
        if (wants('chat')) {
          say('(b) 1:1 chat at rising rates');
          const cpu = new CpuMeter(system.processes.map((p) => p.child.pid!), services);
          chat = await oneToOne({ urls: system.gatewayUrls, target: 'chat', pairs: SIZE.pairs, workers: SIZE.workers, seconds: SIZE.stepSeconds, halfSeconds: SIZE.halfSeconds, start: 25, cpu }, say);
        }
        if (wants('storm')) {
          say(`(d) reconnect storm: ${SIZE.storm} clients`);
          const storm = await reconnectStorm({ urls: system.gatewayUrls, workers: SIZE.workers, clients: SIZE.storm, groupSize: 10, messagesPerGroup: 4, bots: 50 }, say);
          results.storm = storm;
        }
      } finally {
        await system.stop();
      }
    } finally {
      await ns.drop();
    }
    if (wants('groups')) {
      groupRows = { push: [], pull: [], threads: [] };
      // CHAT_PUSH_FANOUT_MAX decides: below it every member gets an inbox row (push), at or above it only the timeline (pull).
      for (const [mode, fanoutMax] of [['push', '1000000'], ['pull', '2']] as const) {
        const gns = new BenchNamespace({ CHAT_PUSH_FANOUT_MAX: fanoutMax });
        try {
          say(`(c) groups of 5, 50 and 500 at ${SIZE.groupRate} sends/s, ${mode} fan-out`);
          const system = await startSystem(gns, { split });
          try {
            groupRows[mode] = await groups({ urls: system.gatewayUrls, workers: SIZE.workers, sizes: [5, 50, 500], usersPerSize: SIZE.groupUsers, rate: SIZE.groupRate, seconds: SIZE.groupSeconds, label: mode }, say);
          } finally {
            await system.stop();
          }
        } finally {
          await gns.drop();
        }
      }
      // Threads with the default settings (a group of 500 is pulled): every other send a reply.
      const tns = new BenchNamespace({});
      try {
        say(`(c) groups of 500 at ${SIZE.groupRate} sends/s, half the messages thread replies`);
        const system = await startSystem(tns, { split });
        try {
          groupRows.threads = await groups({ urls: system.gatewayUrls, workers: SIZE.workers, sizes: [500], usersPerSize: SIZE.groupUsers, rate: SIZE.groupRate, seconds: SIZE.groupSeconds, label: 'threads', threads: true }, say);
        } finally {
          await system.stop();
        }
      } finally {
        await tns.drop();
      }
    }
  }

  let heavy: HeavySenderResult | undefined;
  if (wants('heavy')) {
    // The server's default per-user limits: they are what holds the heavy sender back.
    const hns = new BenchNamespace(defaultLimits());
    try {
      say(`(g) one heavy sender at its limits beside ${SIZE.heavyPairs} quiet pairs at ${SIZE.heavyRate} sends/s`);
      const system = await startSystem(hns, { split });
      try {
        heavy = await heavySender({ urls: system.gatewayUrls, workers: SIZE.workers, pairs: SIZE.heavyPairs, rate: SIZE.heavyRate, seconds: SIZE.heavySeconds, historyLoops: 16 }, say);
      } finally {
        await system.stop();
      }
    } finally {
      await hns.drop();
    }
  }

  let connections: Awaited<ReturnType<typeof connectionsScenario>> | undefined;
  if (wants('connections')) {
    say(`(a) idle authenticated connections: ${SIZE.connections} to one gateway process`);
    connections = await connectionsScenario({ total: SIZE.connections }, say);
  }
  let replay: Awaited<ReturnType<typeof replayScenario>> | undefined;
  if (wants('replay')) {
    say(`(e) replay, with the raw JetStream and Postgres ceilings: ${SIZE.replayEvents} events`);
    replay = await replayScenario({ events: SIZE.replayEvents, conversations: SIZE.replayEvents / 100 }, say);
  }
  let tiers: Awaited<ReturnType<typeof tiersScenario>> | undefined;
  if (wants('tiers')) {
    say(`(f) history pages per tier: ${SIZE.tierMessages} messages, ${SIZE.tierReads} pages per tier`);
    tiers = await tiersScenario({ messages: SIZE.tierMessages, reads: SIZE.tierReads }, say);
  }
  let search: Awaited<ReturnType<typeof searchScenario>> | undefined;
  if (wants('search')) {
    const size = quick ? { events: 10_000, rows: 100_000, conversations: 1_000, queries: 50 } : { events: 40_000, rows: 1_000_000, conversations: 10_000, queries: 200 };
    say(`(h) search: ${size.events} events projected through both projections; the index at ${size.rows} messages in ${size.conversations} conversations`);
    search = await searchScenario(size, services, say);
  }
  if (wants('profile') && chat?.best) {
    say('profile: the all-in-one under 1:1 chat at half the highest sustained rate, with --cpu-prof');
    results.profile = await profileAtHalfRate(Math.round(chat.best.sendsPerS / 2), say);
  }

  // --- tables and results ---
  const ms = (x: number | undefined) => (x === undefined ? null : round(x, 1));
  const rate = (x: number | undefined) => (x === undefined ? null : Math.round(x));
  const ratio = (a: number | undefined, b: number | undefined) => (a && b ? round(a / b, 2) : null);
  const storm = results.storm as { seconds: number; missing: string[] } | undefined;
  const headline = { chat: headlineOf(chat), relay: headlineOf(relay), naive: headlineOf(naive) };
  const group500 = (mode: 'push' | 'pull') => {
    const r = groupRows?.[mode].find((g) => g.size === 500);
    return r && { p99Ms: r.step.latency.p99, deliveries: r.step.deliveries, expected: r.step.expected };
  };
  const goalRows = goals({
    chatSendsPerS: chat?.best?.sendsPerS, chatDeliveriesPerS: chat?.best?.deliveriesPerS, chatHalfP99Ms: chat?.half?.latency.p99,
    jetstreamPublishPerS: replay?.publishPerS, jetstreamConsumePerS: replay?.consumePerS, replayPerS: replay?.replayPerS,
    relayDeliveriesPerS: relay?.best?.deliveriesPerS, naiveDeliveriesPerS: naive?.best?.deliveriesPerS,
    ...(storm && { storm: { seconds: storm.seconds, missing: storm.missing.length } }),
    groups500: { ...(group500('push') && { push: group500('push') }), ...(group500('pull') && { pull: group500('pull') }) },
    kbPerConnection: connections?.gateway.kbPerConnection,
    ...(heavy && { heavy: { p99Ratio: heavy.p99Ratio, alone: heavy.alone.latency.p99, beside: heavy.beside.latency.p99, complete: heavy.beside.deliveries >= heavy.beside.expected } }),
  });
  md.push('### Headline: the 1:1 message path, chat against the raw relay and the naive baseline', headlineTable(headline, previous));
  md.push('### Goals', goalsTable(goalRows));
  md.push('### Ceilings and baseline (same run, same machine, same client libraries)', table(['ceiling', 'per second'], [
    ['raw JetStream publish, acked, 1,000 in flight (200-byte bodies)', rate(replay?.publishPerS)],
    ['raw JetStream consume (ordered consumer per partition)', rate(replay?.consumePerS)],
    ['raw Postgres insert of timeline rows (500 per transaction, 4 writers)', rate(replay?.postgresRowsPerS)],
    ['raw Socket.IO relay: deliveries at the highest sustained rate', rate(relay?.best?.deliveriesPerS)],
    ['naive baseline (one Postgres INSERT per message, then the relay): deliveries at the highest sustained rate', rate(naive?.best?.deliveriesPerS)],
  ]));
  md.push('### Scenarios', table(['scenario', 'figure', 'vs ceiling'], [
    ['(b) 1:1 chat: highest sustained sends/s (p99 <= 200 ms)', rate(chat?.best?.sendsPerS), ratio(chat?.best?.sendsPerS, replay?.publishPerS)],
    ['(b) 1:1 chat: deliveries/s at that rate', rate(chat?.best?.deliveriesPerS), ratio(chat?.best?.deliveriesPerS, relay?.best?.deliveriesPerS)],
    ['(b) 1:1 chat: deliveries/s against the naive baseline', rate(chat?.best?.deliveriesPerS), ratio(chat?.best?.deliveriesPerS, naive?.best?.deliveriesPerS)],
    ['(b) p50 / p99 send-to-deliver at half that rate (ms)', chat?.half ? `${ms(chat.half.latency.p50)} / ${ms(chat.half.latency.p99)}` : null,
      [relay?.half && `relay ${ms(relay.half.latency.p50)} / ${ms(relay.half.latency.p99)}`, naive?.half && `naive ${ms(naive.half.latency.p50)} / ${ms(naive.half.latency.p99)}`].filter(Boolean).join('; ') || null],
    ['(a) idle connections held by one gateway process', connections?.gateway.connected ?? null, connections ? `bare ${connections.bare.connected}` : null],
    ['(a) resident memory per connection (KiB)', ms(connections?.gateway.kbPerConnection), connections ? `bare ${ms(connections.bare.kbPerConnection)}, ratio ${ratio(connections.gateway.kbPerConnection, connections.bare.kbPerConnection)}` : null],
    [`(d) reconnect storm: ${SIZE.storm} clients caught up (s)`, ms(storm?.seconds), storm ? `${storm.missing.length} missing` : null],
    ['(e) replay (events/s)', rate(replay?.replayPerS), ratio(replay?.replayPerS, replay?.consumePerS)],
  ]));
  // CPU per delivery: the started processes' trees (product) and, apart, the shared services.
  const cpuCells = (s: RateStep) => [rate(s.cpu?.usPerDelivery ?? undefined), s.cpu ? round(s.cpu.productCores, 2) : null, rate(s.cpu?.servicesUsPerDelivery ?? undefined)];
  const cpuHead = ['product CPU µs/delivery', 'product cores', 'services CPU µs/delivery'];
  if (chat) {
    md.push('### 1:1 chat at rising offered load', table(['offered/s', 'sends/s', 'deliveries/s', 'p50 ms', 'p90 ms', 'p99 ms', 'ack p50 ms', ...cpuHead, 'sustained'],
      chat.steps.map((s) => [s.offered, rate(s.sendsPerS), rate(s.deliveriesPerS), ms(s.latency.p50), ms(s.latency.p90), ms(s.latency.p99), ms(s.ack.p50), ...cpuCells(s), s.sustained ? 'yes' : 'no'])));
  }
  for (const [r, title, sent] of [[relay, 'Raw Socket.IO relay', 'relayed/s'], [naive, 'Naive baseline (one Postgres INSERT per message, then the relay)', 'stored+relayed/s']] as const) {
    if (!r) continue;
    md.push(`### ${title} at rising offered load`, table(['offered/s', sent, 'deliveries/s', 'p50 ms', 'p90 ms', 'p99 ms', ...cpuHead, 'sustained'],
      r.steps.map((s) => [s.offered, rate(s.sendsPerS), rate(s.deliveriesPerS), ms(s.latency.p50), ms(s.latency.p90), ms(s.latency.p99), ...cpuCells(s), s.sustained ? 'yes' : 'no'])));
  }
  if (chat || relay || naive) {
    md.push('CPU: utime + stime from /proc of the started processes and all their children (product), and apart of the shared nats-server, postgres and redis-server (services, which other work on this machine also uses), from the first send of a step to its last delivery, divided by its deliveries.');
  }
  if (groupRows) {
    md.push(`### (c) Groups at ${SIZE.groupRate} sends/s`, table(['members', 'groups', 'fan-out', 'sends/s', 'deliveries/s', 'p50 ms', 'p99 ms', 'delivered'],
      (['push', 'pull', 'threads'] as const).flatMap((mode) => groupRows![mode].map((r) => [r.size, r.groups, mode === 'threads' ? 'pull, half replies' : mode, rate(r.step.sendsPerS), rate(r.step.deliveriesPerS), ms(r.step.latency.p50), ms(r.step.latency.p99), `${r.step.deliveries}/${r.step.expected}`]))));
  }
  if (heavy) {
    const h = heavy;
    md.push(`### (g) One heavy sender beside ${h.pairs} quiet pairs at ${h.rate} sends/s`, table(['quiet pairs', 'sends/s', 'p50 ms', 'p99 ms', 'delivered', 'errors'],
      ([['alone', h.alone], ['beside the heavy sender', h.beside]] as const).map(([label, s]) => [label, rate(s.sendsPerS), ms(s.latency.p50), ms(s.latency.p99), `${s.deliveries}/${s.expected}`, Object.keys(s.errors).length ? JSON.stringify(s.errors) : 'none'])),
      `The heavy sender, one client under the server's default limits, sent 16 KiB messages at four times its send rate and asked for history pages of 200 in 16 loops (each again on its answer or after the retryAfterMs it was given): ${h.heavy.acked} sends acked, refused ${JSON.stringify(h.heavy.refused)}, ${h.heavy.historyAnswers} history pages answered (${round(h.heavy.historyBytes / 2 ** 20, 0)} MiB).`);
  }
  if (tiers) {
    md.push('### (f) History pages of 50 per tier', table(['tier', 'p50 ms', 'p99 ms', 'bytes/message stored', 'payload bytes/message'],
      tiers.map((t) => [t.tier, round(t.p50, 2), round(t.p99, 2), Math.round(t.bytesPerMessage), t.payloadBytesPerMessage === null ? null : Math.round(t.payloadBytesPerMessage)])));
  }
  if (search) {
    const s = search;
    md.push('### (h) Search: projecting cost per event, timeline and search index', table(['projection', 'events', 'seconds', 'process CPU µs/event', 'Postgres CPU µs/event'],
      s.costs.map((c) => [c.projection, c.events, round(c.seconds, 1), round(c.processUsPerEvent, 1), c.postgresUsPerEvent === null ? null : round(c.postgresUsPerEvent, 1)])));
    md.push(`### (h) Search latency: the index query over ${s.rows} messages in ${s.conversations} conversations`, table(['query', 'matches in the index', 'p50 ms', 'p99 ms'],
      s.latency.map((l) => [l.query, l.matches, round(l.latency.p50, 1), round(l.latency.p99, 1)])));
    md.push(`Index: ${round(s.ginBytesPerMessage, 0)} bytes/message of GIN, ${round(s.tableBytesPerMessage, 0)} bytes/message of table and primary key (timeline hot row: ${round(s.timelineBytesPerMessage, 0)}); load ${round(s.loadSeconds, 0)} s, GIN build ${round(s.indexSeconds, 0)} s. Reading a page of 20 hits back through the tiers: p50 ${round(s.hitLoad.p50, 2)} ms, p99 ${round(s.hitLoad.p99, 2)} ms.`);
  }
  if (results.profile) {
    const p = results.profile as ReturnType<typeof summarizeProfiles>;
    md.push(`### Where the all-in-one's CPU time goes (busy ${round(p.busyPercent, 0)}% of the profile)`, table(['self time in', '%'], p.byPlace.map((s) => [s.where, round(s.percent, 1)])),
      table(['function', '%'], p.byFunction.map((s) => [s.where.replace(/\|/g, '/'), round(s.percent, 1)])));
  }
  const machine = { cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30), cpu: cpus()[0]?.model };
  md.push(`machine: ${machine.cores} cores, ${machine.memory_gib} GiB, ${machine.cpu}; ${quick ? 'quick' : 'full'} run, ${split ? 'split' : 'all-in-one'}, ${Math.round((Date.now() - started) / 1000)} s`);
  const text = md.join('\n\n');
  process.stdout.write(`\n${text}\n`);

  Object.assign(results, {
    at: new Date().toISOString(), quick, split, phases,
    // The headline, per system: chat unprefixed (sends_per_s, cpu_us_per_delivery, ...), relay_ and naive_.
    ...headlineKeys('', headline.chat), ...headlineKeys('relay_', headline.relay), ...headlineKeys('naive_', headline.naive),
    jetstream_publish_ceiling_per_s: rate(replay?.publishPerS), jetstream_consume_ceiling_per_s: rate(replay?.consumePerS),
    postgres_insert_ceiling_rows_per_s: rate(replay?.postgresRowsPerS), socketio_relay_ceiling_per_s: rate(relay?.best?.deliveriesPerS),
    connections_per_process: connections?.gateway.connected ?? null, rss_kb_per_connection: ms(connections?.gateway.kbPerConnection),
    bare_socketio_rss_kb_per_connection: ms(connections?.bare.kbPerConnection),
    reconnect_storm_s: ms(storm?.seconds), replay_events_per_s: rate(replay?.replayPerS),
    naive_baseline_rows: naive?.rows ?? null,
    goals: goalRows, previous: previous ? { at: previous.at, chat: previous.chat, relay: previous.relay, naive: previous.naive } : null,
    cpu_clock_ticks_per_s: ticksPerSecond(), shared_services: services,
    machine, chat, relay, naive, groups: groupRows, heavy, connections, replay, tiers, search,
  });
  const dir = RESULTS;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${stem}.json`), `${JSON.stringify(results, (_k, v: unknown) => (Array.isArray(v) && v.length > 50 && typeof v[0] === 'number' ? undefined : v), 2)}\n`);
  writeFileSync(join(dir, `${stem}.md`), `${text}\n`);
  if (chat || relay || naive) {
    const line = (r: OneToOneResult, name: string, key: 'p50' | 'p90' | 'p99', color: string, dash?: string) => ({ name, color, dash, points: r.steps.map((s) => [s.offered, s.latency[key]] as [number, number]) });
    writeFileSync(join(dir, `${stem === 'latest' ? 'latency' : `${stem}-latency`}.svg`), latencyPlot('1:1 send-to-deliver latency vs offered load', [
      ...(chat ? [line(chat, 'chat p50', 'p50', '#1f77b4'), line(chat, 'chat p90', 'p90', '#2ca02c'), line(chat, 'chat p99', 'p99', '#d62728')] : []),
      ...(relay ? [line(relay, 'bare relay p50', 'p50', '#1f77b4', '5 3'), line(relay, 'bare relay p99', 'p99', '#d62728', '5 3')] : []),
      ...(naive ? [line(naive, 'naive p50', 'p50', '#ff7f0e', '2 3'), line(naive, 'naive p99', 'p99', '#9467bd', '2 3')] : []),
    ], P99_LIMIT_MS));
  }
  const passed = goalRows.filter((g) => g.result === 'pass').length;
  const failed = goalRows.filter((g) => g.result === 'fail').length;
  say(`goals: ${passed} pass, ${failed} fail, ${goalRows.length - passed - failed} not measured`);
  say(`wrote bench/results/${stem}.json and .md`);
}

/** Runs the chat load once more against an all-in-one started with --cpu-prof, and summarizes it. */
async function profileAtHalfRate(rateNow: number, sayLine: (l: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'chat-profile-'));
  const ns = new BenchNamespace();
  try {
    const system = await startSystem(ns, { split: false, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    try {
      await oneToOne({ urls: system.gatewayUrls, target: 'chat', pairs: SIZE.pairs, workers: SIZE.workers, seconds: 1, halfSeconds: 8, start: rateNow, fixed: true }, sayLine);
    } finally {
      await system.stop();
    }
    return summarizeProfiles(dir);
  } finally {
    await ns.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
