import { startApp, type AppProcess } from './app-process';
import { connectClient, type TestClient } from './clients';
import { createNamespace, type TestNamespace } from './namespace';

/**
 * One all-in-one process on its own namespace and database, with the clients a test
 * opened; `close()` stops everything and removes what the run wrote.
 */
export interface TestSystem {
  ns: TestNamespace;
  app: AppProcess;
  connect(userId: string, opts?: { deviceId?: string; token?: string }): Promise<TestClient>;
  close(): Promise<void>;
}

export async function startSystem(label: string, env: Record<string, string> = {}): Promise<TestSystem> {
  const ns = createNamespace(label, env);
  const app = await startApp({ env: ns.env });
  const clients: TestClient[] = [];
  return {
    ns,
    app,
    connect: async (userId, opts) => {
      const client = await connectClient(app.url, userId, opts);
      clients.push(client);
      return client;
    },
    close: async () => {
      for (const c of clients) c.close();
      await app.stop();
      await ns.cleanup();
    },
  };
}

/** Starts a system before the file's tests and removes it after; call inside `describe`. */
export function useSystem(label: string, env: Record<string, string> = {}): () => TestSystem {
  let sys: TestSystem | undefined;
  beforeAll(async () => {
    sys = await startSystem(label, env);
  });
  afterAll(async () => {
    await sys?.close();
  });
  return () => {
    if (!sys) throw new Error('the system did not start');
    return sys;
  };
}
