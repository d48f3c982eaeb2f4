// Writes the report into README.md between <!-- bench:start --> and <!-- bench:end -->, adding
// them (under "## Benchmarks", at the end) if they are missing.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

export function writeReadme(markdown) {
  let text = readFileSync(README, 'utf8');
  if (!text.includes(START) || !text.includes(END)) {
    text = `${text.trimEnd()}\n\n## Benchmarks\n\n${START}\n${END}\n`;
  }
  const before = text.slice(0, text.indexOf(START) + START.length);
  const after = text.slice(text.indexOf(END));
  writeFileSync(README, `${before}\n${markdown.trim()}\n${after}`);
  return README;
}
