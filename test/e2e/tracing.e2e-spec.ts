import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSystem, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
}

/** An OTLP/HTTP receiver (JSON, as the exporter sends it), keeping every span it is sent. */
function collector(): { server: Server; spans: ExportedSpan[]; ready: Promise<string> } {
  const spans: ExportedSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const doc = JSON.parse(body) as { resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: Array<Omit<ExportedSpan, 'service'>> }> }> };
        for (const rs of doc.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const ready = new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
  return { server, spans, ready };
}

describe('tracing (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  const otlp = collector();
  let system: TestSystem | undefined;
  beforeAll(async () => {
    system = await startSystem('tracing', { OTEL_EXPORTER_OTLP_ENDPOINT: await otlp.ready });
  });
  afterAll(async () => {
    await system?.close();
    await new Promise<void>((resolve) => otlp.server.close(() => resolve()));
  });
  const sys = () => system!;

  it('follows one message as one trace: the send, its projection, its delivery; sync and history have spans', async () => {
    const alice = await sys().connect('alice');
    const bob = await sys().connect('bob');
    const { conversation } = await alice.ok('conversation:create', { type: 'direct', members: ['bob'] });
    const { seq } = await alice.ok('message:send', { conversationId: conversation.id, clientMsgId: 'traced-1', body: 'follow me' });
    await waitFor('bob to get the message live', () => bob.messages().some((m) => m.seq === seq), 20_000);
    await bob.ok('history', { conversationId: conversation.id });
    await bob.ok('sync', {});

    const byName = (name: string) => otlp.spans.filter((s) => s.name === name);
    await waitFor('the send, commit, emit, history and sync spans', () => ['chat message:send', 'chat projector.commit', 'chat socket.emit', 'chat history', 'chat sync'].every((n) => byName(n).length > 0), 30_000, 100);
    // The send whose trace reached the projector and the gateway's emit.
    const sends = byName('chat message:send');
    const send = sends.find((s) => byName('chat socket.emit').some((e) => e.traceId === s.traceId));
    expect(send).toBeDefined();
    const inTrace = otlp.spans.filter((s) => s.traceId === send!.traceId);
    const commit = inTrace.find((s) => s.name === 'chat projector.commit');
    const emit = inTrace.find((s) => s.name === 'chat socket.emit');
    expect(commit?.parentSpanId).toBe(send!.spanId);
    expect(emit?.parentSpanId).toBe(send!.spanId);
    // Across the all-in-one's two processes: the front's send and emit, the worker's commit.
    expect(send!.service).toMatch(/front/);
    expect(commit!.service).toMatch(/worker/);
    expect(emit!.service).toMatch(/front/);
  });
});
