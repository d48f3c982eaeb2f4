#!/usr/bin/env node
// Makes every `bin` file of the workspace packages executable (0755). tsc writes its output
// 0644, so after a build `./packages/cli/dist/main.js` would not run by itself, and a link
// to it on PATH (pnpm link, a global install from the folder) would fail with EACCES. Run by
// the root `build` script, and by `prepack` for the package being packed.
//
//   node scripts/chmod-bins.mjs [package-dir …]   (default: every packages/* directory)
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The bin paths of the package in `dir`, resolved; made 0755. Throws when one is missing. */
export function chmodBins(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const bins = typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
  return bins.map((bin) => {
    const path = resolve(dir, bin);
    if (!existsSync(path)) throw new Error(`${manifest.name}: bin ${bin} does not exist (build first)`);
    chmodSync(path, 0o755);
    return path;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const given = process.argv.slice(2);
  const dirs = given.length > 0 ? given.map((dir) => resolve(dir)) : readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name));
  for (const dir of dirs) {
    if (existsSync(join(dir, 'package.json'))) chmodBins(dir);
  }
}
