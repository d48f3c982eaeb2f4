import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The storage seam (packages/core/src/storage/store.ts): SQLite and its locks live under
// packages/core/src/storage/sqlite/ and nowhere else, so that a second store can sit beside it. (The stress harness reads the file
// with a raw connection of its own to check invariants; it is a test tool, not the product.)
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Each engine's libraries, and the one folder (besides the stress harness, which reads SQLite files itself) that may import them. */
const ENGINES = [
  { modules: ['better-sqlite3', 'proper-lockfile', 'fs-native-extensions'], home: 'packages/core/src/storage/sqlite/', also: ['packages/stress/src/'] },
  { modules: ['pg', 'pg-connection-string'], home: 'packages/core/src/storage/postgres/', also: [] },
];

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
  it("each engine's libraries are imported in its store's folder only (SQLite: storage/sqlite/, PostgreSQL: storage/postgres/)", () => {
    const packagesDir = join(ROOT, 'packages');
    const files = readdirSync(packagesDir).flatMap((pkg) => sources(join(packagesDir, pkg, 'src')));
    expect(files.length).toBeGreaterThan(20);
    const leaks = files.flatMap((file) => {
      const path = relative(ROOT, file);
      const imported = importedModules(readFileSync(file, 'utf8'));
      return ENGINES.flatMap((engine) => {
        if ([engine.home, ...engine.also].some((prefix) => path.startsWith(prefix))) return [];
        return imported
          .filter((module) => engine.modules.some((name) => module === name || module.startsWith(`${name}/`)))
          .map((module) => `${path} imports ${module}`);
      });
    });
    expect(leaks).toEqual([]);
  });

  it('one store never reaches into the other', () => {
    const storage = join(ROOT, 'packages/core/src/storage');
    const crossing = [
      ...sources(join(storage, 'sqlite')).flatMap((file) => importedModules(readFileSync(file, 'utf8')).filter((m) => m.includes('postgres')).map((m) => `${relative(ROOT, file)} imports ${m}`)),
      ...sources(join(storage, 'postgres')).flatMap((file) => importedModules(readFileSync(file, 'utf8')).filter((m) => m.includes('sqlite')).map((m) => `${relative(ROOT, file)} imports ${m}`)),
    ];
    expect(crossing).toEqual([]);
  });

  it('above the seam, only the store opener and the public index name the SQLite store', () => {
    // Everything in core outside storage/, and the CLI and the demo, know stores through
    // storage/store.ts (the TaskStore interface) and the queue. The exceptions: storage/open-store.ts
    // picks the store for a location, and index.ts re-exports the SQLite store's option types.
    const core = join(ROOT, 'packages/core/src');
    const above = [
      ...sources(core).filter((file) => !relative(core, file).startsWith('storage/')),
      ...sources(join(ROOT, 'packages/cli/src')),
      ...sources(join(ROOT, 'packages/demo/src')),
    ];
    expect(above.length).toBeGreaterThan(30);
    const reaching = above.flatMap((file) => {
      const path = relative(ROOT, file);
      if (path === 'packages/core/src/index.ts') return [];
      return importedModules(readFileSync(file, 'utf8'))
        .filter((module) => /storage\/(sqlite|postgres)/.test(module) || module === '@tasklock/core/sqlite' || module === '@tasklock/core/postgres')
        .map((module) => `${path} imports ${module}`);
    });
    expect(reaching).toEqual([]);
    const opener = importedModules(readFileSync(join(core, 'storage/open-store.ts'), 'utf8'));
    expect(opener.filter((module) => module.includes('sqlite') || module.includes('postgres'))).toEqual(['./postgres/postgres-store.js', './sqlite/sqlite-store.js']);
  });

  it('the TaskStore interface and its rows name no engine, connection or transaction type', () => {
    for (const file of ['storage/store.ts', 'storage/rows.ts']) {
      const text = readFileSync(join(ROOT, 'packages/core/src', file), 'utf8');
      expect(importedModules(text).filter((module) => !/^\.\.?\//.test(module) || module.includes('sqlite') || module.includes('postgres')), file).toEqual([]);
      expect(text, file).not.toMatch(/\b(Database|Statement|Transaction|Connection)\b/);
    }
  });

  it("the CLI and the demo use the queue's API, never the store's database handle", () => {
    const users = ['packages/cli/src', 'packages/demo/src'].flatMap((dir) => sources(join(ROOT, dir)));
    const reaching = users.filter((file) => /\bqueue\.db\b|\.store\.database\b|SqliteStore/.test(readFileSync(file, 'utf8'))).map((file) => relative(ROOT, file));
    expect(reaching).toEqual([]);
  });

  it('the check sees an engine import where there is one', () => {
    expect(importedModules("import Database from 'better-sqlite3';\nconst x = await import('proper-lockfile');")).toEqual(['better-sqlite3', 'proper-lockfile']);
    // …and the SQLite store itself does import it.
    const sqlite = sources(join(ROOT, 'packages/core/src/storage/sqlite'));
    expect(sqlite.some((file) => importedModules(readFileSync(file, 'utf8')).includes('better-sqlite3'))).toBe(true);
  });
});
