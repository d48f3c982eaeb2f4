#!/usr/bin/env node
// Regenerates the README sections that are derived from code (the state-machine table).
// `--check` exits 1 instead of writing when the README is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transitionTableMarkdown } from '@tasklock/core';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const text = readFileSync(readme, 'utf8');
const start = '<!-- state-machine:start -->';
const end = '<!-- state-machine:end -->';
const before = text.slice(0, text.indexOf(start) + start.length);
const after = text.slice(text.indexOf(end));
if (text.indexOf(start) < 0 || text.indexOf(end) < 0) throw new Error('README has no state-machine markers');
const updated = `${before}\n${transitionTableMarkdown()}\n${after}`;
if (process.argv.includes('--check')) {
  if (updated !== text) {
    console.error('README.md state-machine table is out of date: run node scripts/readme-sync.mjs');
    process.exit(1);
  }
} else {
  writeFileSync(readme, updated);
}
