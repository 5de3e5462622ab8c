import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configSchema } from '@chat/config';
import { clientPayloads, ERROR_CODES, SERVER_EVENT_NAMES } from '@chat/contracts';
import { ROUTES } from '../../apps/api/src/admin.routes';
import { ROOT } from '../support/app-process';

/**
 * docs/protocol.md is the contract a clone alone must be enough to read: everything the
 * code serves is in it, and everything it names exists in the code.
 */
describe('docs/protocol.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'protocol.md'), 'utf8');
  const contract = doc.slice(0, doc.indexOf('\n# Decisions'));
  const tableRows = (section: string) => {
    const text = contract.slice(contract.indexOf(`## ${section}\n`));
    const end = text.indexOf('\n## ', 4);
    // The names in each row's first cell (a cell may name several: `A`, `B`).
    const firstCells = [...(end < 0 ? text : text.slice(0, end)).matchAll(/^\| (`[^|]+`) \|/gm)].map((m) => m[1]!);
    return firstCells.flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
  };

  it('lists every client event the gateway handles, with nothing the gateway does not handle', () => {
    expect(tableRows('Client to server').sort()).toEqual(Object.keys(clientPayloads).sort());
  });

  it('lists every server event, with nothing the server does not send', () => {
    expect(tableRows('Server to client').sort()).toEqual([...SERVER_EVENT_NAMES].sort());
  });

  it('lists every route the apps serve, with nothing they do not', () => {
    const listed = tableRows('HTTP routes');
    const served = ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(listed.sort()).toEqual(served.sort());
  });

  it('documents every environment variable the configuration reads, and names no other', () => {
    const read = Object.keys(configSchema.shape);
    const documented = new Set(tableRows('Environment'));
    expect(read.filter((v) => !documented.has(v))).toEqual([]);
    // Anywhere in the file, a CHAT_ variable it names must be one the code reads.
    const named = new Set([...doc.matchAll(/\bCHAT_[A-Z0-9_]+\b/g)].map((m) => m[0]));
    expect([...named].filter((v) => !read.includes(v))).toEqual([]);
  });

  it('names every error code the server answers with', () => {
    expect(tableRows('Answers and error codes').sort()).toEqual([...ERROR_CODES].sort());
  });

  it('is self-contained: no file of the repository points outside it', () => {
    const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
    const outside = files.filter((f) => !f.startsWith('test/e2e/protocol-document')).flatMap((f) => {
      let text: string;
      try {
        text = readFileSync(join(ROOT, f), 'utf8');
      } catch {
        return [];
      }
      return /\.\.\/shared\/|\bPROTOCOL\.md\b|\bDESIGN\.md\b|\bSTYLE\.md\b/.test(text) ? [f] : [];
    });
    expect(outside).toEqual([]);
  });
});
