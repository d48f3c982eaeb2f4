#!/usr/bin/env node
// Regenerates the command reference in README.md and packages/cli/README.md from the built
// binary's --help (run `pnpm run build` first). `--check` exits 1 instead of writing when either
// README is stale.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const main = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const readmes = ['../README.md', '../packages/cli/README.md'].map((path) => fileURLToPath(new URL(path, import.meta.url)));
const start = '<!-- cli-reference:start -->';
const end = '<!-- cli-reference:end -->';

async function help(args) {
  // A pipe, not a terminal: commander wraps at 80 columns whatever the caller's window.
  const { stdout } = await promisify(execFile)(process.execPath, [main, ...args, '--help'], { encoding: 'utf8' });
  return stdout.trimEnd();
}

/** Command names from the root help's "Commands:" section (not `help` itself). */
function commandsOf(rootHelp) {
  const section = rootHelp.slice(rootHelp.indexOf('\nCommands:\n'));
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]).filter((name) => name !== 'help');
}

async function reference() {
  const root = await help([]);
  const names = commandsOf(root);
  const helps = await Promise.all(names.map((name) => help([name])));
  const block = (title, text) => `### ${title}\n\n\`\`\`text\n${text}\n\`\`\``;
  return [block('tasklock', root), ...names.map((name, i) => block(`tasklock ${name}`, helps[i]))].join('\n\n');
}

const generated = await reference();
let stale = false;
for (const readme of readmes) {
  const text = readFileSync(readme, 'utf8');
  if (text.indexOf(start) < 0 || text.indexOf(end) < 0) throw new Error(`${readme} has no cli-reference markers`);
  const updated = `${text.slice(0, text.indexOf(start) + start.length)}\n${generated}\n${text.slice(text.indexOf(end))}`;
  if (updated === text) continue;
  if (process.argv.includes('--check')) {
    console.error(`${readme}: command reference is out of date: run node scripts/cli-reference.mjs`);
    stale = true;
  } else {
    writeFileSync(readme, updated);
  }
}
if (stale) process.exit(1);
