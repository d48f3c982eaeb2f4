/**
 * What a person at a terminal sees: a pseudo-terminal from script(1) (util-linux), so stdout is a
 * TTY of a known width. Tables fit it (cut cells end in "…", --wide shows them whole), statuses
 * are coloured unless NO_COLOR is set, and `stats --watch` redraws in place until Ctrl-C.
 */
import { execa, execaSync } from 'execa';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CLI_MAIN, enqueue, initDb } from '../utils/cli.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterAll(() => removeTempDirs());

const hasScript = execaSync('script', ['--version'], { reject: false }).exitCode === 0;
const ESC = '\x1b';
const COLUMNS = 80;

/** The command line run in a `columns`-wide pseudo-terminal; the inner shell prints its pid first, then execs tasklock. */
function inTerminal(args: readonly string[], env: Record<string, string | undefined> = {}, columns = COLUMNS) {
  const quoted = [process.execPath, CLI_MAIN, ...args].map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  return execa('script', ['-qfec', `stty cols ${columns} rows 40; echo "PID=$$"; exec ${quoted}`, '/dev/null'], {
    reject: false,
    stdin: 'ignore',
    env: { TASKLOCK_DB: undefined, NO_COLOR: undefined, ...env },
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
}

function visibleLines(output: string): string[] {
  return output
    .replace(/\r/g, '')
    .replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')
    .split('\n')
    .filter((line) => line.length > 0 && !line.startsWith('PID='));
}

describe.skipIf(!hasScript)('on a terminal', () => {
  it('list fits the width, colours statuses; NO_COLOR turns colour off; --wide shows every cell whole', async () => {
    const { db } = await initDb();
    await enqueue(db, 'a-rather-long-task-type-name', { n: 1 });
    await enqueue(db, 'short', {}, ['--delay', '1h']);
    const fitted = await inTerminal(['--db', db, 'list']);
    expect(fitted.exitCode, String(fitted.stderr)).toBe(0);
    const lines = visibleLines(String(fitted.stdout));
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+TYPE/);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(COLUMNS);
    expect(lines.join('\n')).toContain('…');
    expect(lines.join('\n')).toMatch(/ scheduled /);
    expect(String(fitted.stdout)).toContain(`${ESC}[33mpending`);
    expect(String(fitted.stdout)).toContain(`${ESC}[34mscheduled`);

    const plain = await inTerminal(['--db', db, 'list'], { NO_COLOR: '1' });
    expect(String(plain.stdout)).not.toContain(ESC);
    expect(visibleLines(String(plain.stdout))).toEqual(lines);

    const wide = await inTerminal(['--db', db, 'list', '--wide']);
    const wideLines = visibleLines(String(wide.stdout));
    expect(Math.max(...wideLines.map((line) => line.length))).toBeGreaterThan(COLUMNS);
    expect(wideLines.join('\n')).toContain('a-rather-long-task-type-name');
    expect(wideLines.join('\n')).not.toContain('…');
  });

  it('stats --watch redraws in place within the width, and Ctrl-C (SIGINT) exits 0', async () => {
    const { db } = await initDb();
    await enqueue(db, 'mail');
    const child = inTerminal(['--db', db, 'stats', '--watch', '--interval', '100ms'], {}, 60);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer | string) => {
      out += String(chunk);
    });
    const frames = () => out.split(`${ESC}[H${ESC}[2J`).length - 1;
    await vi.waitFor(() => expect(frames()).toBeGreaterThanOrEqual(2), { timeout: 20_000, interval: 20 });
    const pid = Number(/PID=(\d+)/.exec(out)![1]);
    process.kill(pid, 'SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(0);
    const lastFrame = visibleLines(out.split(`${ESC}[H${ESC}[2J`).at(-1)!);
    for (const line of lastFrame) expect(line.length, line).toBeLessThanOrEqual(60);
    expect(lastFrame.join('\n')).toMatch(/pending 1\s+scheduled 0\s+running 0/);
    expect(lastFrame.join('\n')).toMatch(/^mail\s+1\s+0/m);
    expect(lastFrame.join('\n')).toMatch(/^no task running$/m);
  });
});
