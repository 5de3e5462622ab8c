#!/usr/bin/env node
// Validates Kubernetes manifests against the Kubernetes JSON schemas shipped by the
// kubernetes-models package: `node deploy/k8s/validate.mjs [file.yaml ...]` (default: every
// manifest in deploy/k8s). Prints one line per problem and exits 1 when there is any.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
// Helm values are not manifests: nats-values.yaml is checked by the test.
const files = process.argv.length > 2
  ? process.argv.slice(2)
  : readdirSync(here).filter((f) => f.endsWith('.yaml') && f !== 'nats-values.yaml').map((f) => join(here, f));

const problems = [];
let count = 0;
for (const file of files) {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (doc.errors.length) {
      problems.push(`${file}: YAML: ${doc.errors[0].message}`);
      continue;
    }
    const manifest = doc.toJS();
    if (manifest === null) continue;
    const { apiVersion, kind } = manifest;
    const where = `${file}: ${kind ?? '?'} ${manifest.metadata?.name ?? '?'}`;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
      problems.push(`${where}: apiVersion and kind are required`);
      continue;
    }
    let models;
    try {
      models = await import(`kubernetes-models/${apiVersion}`);
    } catch {
      problems.push(`${where}: unknown apiVersion ${apiVersion}`);
      continue;
    }
    const Model = models[kind];
    if (!Model) {
      problems.push(`${where}: unknown kind ${kind} in ${apiVersion}`);
      continue;
    }
    try {
      new Model(manifest).validate();
      count++;
    } catch (err) {
      problems.push(`${where}: ${err.message}`);
    }
  }
}
for (const p of problems) console.error(p);
console.log(`${count} manifests valid, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
