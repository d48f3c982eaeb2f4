import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The storage seam: SQLite and its locks live under packages/core/src/storage/sqlite/ and
// nowhere else, so that a second store can sit beside it. (The stress harness reads the file
// with a raw connection of its own to check invariants; it is a test tool, not the product.)
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENGINE_MODULES = ['better-sqlite3', 'proper-lockfile', 'fs-native-extensions'];
const ALLOWED = ['packages/core/src/storage/sqlite/', 'packages/stress/src/'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|mts|js|mjs)$/.test(name) ? [path] : [];
  });
}

function importedModules(text: string): string[] {
  const found = [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  return [...new Set(found)];
}

describe('the storage seam', () => {
  it('no file outside storage/sqlite/ imports better-sqlite3 or a lock library', () => {
    const packagesDir = join(ROOT, 'packages');
    const files = readdirSync(packagesDir).flatMap((pkg) => sources(join(packagesDir, pkg, 'src')));
    expect(files.length).toBeGreaterThan(20);
    const leaks = files.flatMap((file) => {
      const path = relative(ROOT, file);
      if (ALLOWED.some((prefix) => path.startsWith(prefix))) return [];
      return importedModules(readFileSync(file, 'utf8'))
        .filter((module) => ENGINE_MODULES.some((engine) => module === engine || module.startsWith(`${engine}/`)))
        .map((module) => `${path} imports ${module}`);
    });
    expect(leaks).toEqual([]);
  });

  it('the worker knows the store only through the queue: no import reaches into storage/sqlite/', () => {
    const reaching = ['packages/core/src/worker.ts', 'packages/core/src/worker-finisher.ts'].flatMap((path) =>
      importedModules(readFileSync(join(ROOT, path), 'utf8'))
        .filter((module) => module.includes('storage/sqlite/'))
        .map((module) => `${path} imports ${module}`),
    );
    expect(reaching).toEqual([]);
  });

  it('the CLI and the demo use the queue\'s API, never its SQLite handle (queue.db)', () => {
    const users = ['packages/cli/src', 'packages/demo/src'].flatMap((dir) => sources(join(ROOT, dir)));
    const reaching = users.filter((file) => /\bqueue\.db\b/.test(readFileSync(file, 'utf8'))).map((file) => relative(ROOT, file));
    expect(reaching).toEqual([]);
  });

  it('the check sees an engine import where there is one', () => {
    expect(importedModules("import Database from 'better-sqlite3';\nconst x = await import('proper-lockfile');")).toEqual(['better-sqlite3', 'proper-lockfile']);
    // …and the SQLite store itself does import it.
    const sqlite = sources(join(ROOT, 'packages/core/src/storage/sqlite'));
    expect(sqlite.some((file) => importedModules(readFileSync(file, 'utf8')).includes('better-sqlite3'))).toBe(true);
  });
});
