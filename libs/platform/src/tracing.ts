import { tracingStarted } from '@chat/messaging';

/**
 * OpenTelemetry, only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the SDK's own variables
 * configure it further: OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME, ...): spans go to
 * that collector over OTLP/HTTP in batches. Without it nothing is loaded.
 */
export function startTracing(service: string, endpoint: string | undefined): { stop(): Promise<void> } | undefined {
  if (!endpoint) return undefined;
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when tracing is on */
  const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? service }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }), { scheduledDelayMillis: 500 })],
  });
  // Registers the global provider, the AsyncLocalStorage context manager and the W3C propagator.
  provider.register();
  tracingStarted();
  return { stop: () => provider.shutdown() };
}
