// docs/architecture.md says what each folder may import; this holds the tree to it, so the page stays true.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const NOT_CODE = new Set(['node_modules', 'test', 'docs', '.git', '.ci', '.policylens', 'scratch', 'dist']);
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

/** The folder a file answers to: its top-level folder, or its sub-folder of query/ (query/ itself for query/*.ts). */
function unitOf(file: string): string {
  const parts = relative(ROOT, file).split('/');
  if (parts[0] === 'query' && parts.length > 2) return `query/${parts[1]}/`;
  return `${parts[0]}/`;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return NOT_CODE.has(name) ? [] : sourceFiles(path);
    return /\.(ts|js)$/.test(name) && dir !== ROOT.replace(/\/$/, '') ? [path] : [];
  });
}

function allowedImports(): Map<string, Set<string>> {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const section = doc.split('## What each folder may import')[1]?.split('\n## ')[0] ?? '';
  const rows = [...section.matchAll(/^\| `([^`]+)` \| (.+) \|$/gm)];
  return new Map(rows.map(([, unit, may]) => [unit, new Set(may === 'nothing' ? [] : [...may.matchAll(/`([^`]+)`/g)].map((m) => m[1]))]));
}

describe('docs/architecture.md against the tree', () => {
  const allowed = allowedImports();
  const files = sourceFiles(ROOT.replace(/\/$/, ''));

  it('has a row for every folder that holds code, and none for a folder that is gone', () => {
    expect(allowed.size).toBeGreaterThan(10);
    const units = new Set(files.map(unitOf));
    expect(
      [...units].filter((u) => !allowed.has(u)),
      'folders missing from the table',
    ).toEqual([]);
    expect(
      [...allowed.keys()].filter((u) => !units.has(u)),
      'rows naming no folder of the tree',
    ).toEqual([]);
  });

  it('finds no import the table does not allow', () => {
    const broken: string[] = [];
    let seen = 0;
    for (const file of files) {
      const from = unitOf(file);
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
        const to = unitOf(resolve(dirname(file), spec));
        seen++;
        if (to !== from && !allowed.get(from)?.has(to)) broken.push(`${relative(ROOT, file)} imports ${spec} (${from} may not import ${to})`);
      }
    }
    expect(seen).toBeGreaterThan(300);
    expect(broken).toEqual([]);
  });

  it('names only paths that exist where it says where things go', () => {
    const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const named = [...doc.matchAll(/`((?:common|events|warehouse|simulator|ingest|query|dashboards|devtools|cli|bench|bin)\/[a-z0-9/-]+\.ts)`/g)].map(
      (m) => m[1],
    );
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((p) => !statSync(join(ROOT, p), { throwIfNoEntry: false }))).toEqual([]);
  });
});
