import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isAliveByStat, isProcessAlive, parseProcStat, processStart, type ProcStat } from '../../packages/core/src/process-identity.js';

// Dead-owner reclaim and the stress harness's lock audit both decide "is the process that held
// this alive?"; a wrong "alive" delays recovery, a wrong "dead" hands a live worker's tasks away.

const children: number[] = [];
afterEach(() => {
  for (const pid of children.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function statLine(comm: string, state: string, flags: number, start: string): string {
  // pid (comm) state ppid pgrp session tty tpgid flags … field 22 = starttime
  const rest = [state, '1', '77', '1', '0', '-1', String(flags), ...Array(12).fill('0'), start, '0', '0'];
  return `4242 (${comm}) ${rest.join(' ')}\n`;
}

function waitForState(pid: number, wanted: string): void {
  const deadline = Date.now() + 5000;
  for (;;) {
    const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    if (stat?.state === wanted) return;
    if (Date.now() > deadline) throw new Error(`pid ${pid} never reached state ${wanted} (is ${stat?.state})`);
    spawnSync('sleep', ['0.01']);
  }
}

describe('parseProcStat', () => {
  it('reads state, start time and PF_EXITING, whatever the command name holds', () => {
    expect(parseProcStat(statLine('a) b (c', 'S', 0x400040, '777'))).toEqual({ state: 'S', pgrp: 77, start: '777', exiting: false });
    expect(parseProcStat(statLine('node', 'R', 0x400044, '12'))).toEqual({ state: 'R', pgrp: 77, start: '12', exiting: true });
    expect(parseProcStat('garbage')).toBeNull();
  });

  it('agrees with this process itself', () => {
    const own = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(own?.start).toBe(processStart(process.pid));
    expect(own?.exiting).toBe(false);
  });
});

describe('isAliveByStat', () => {
  const running: ProcStat = { state: 'S', pgrp: 1, start: '100', exiting: false };
  it('a zombie, a dead task or an exiting one is dead', () => {
    expect(isAliveByStat({ ...running, state: 'Z' }, '100')).toBe(false);
    expect(isAliveByStat({ ...running, state: 'X' }, '100')).toBe(false);
    expect(isAliveByStat({ ...running, exiting: true }, '100')).toBe(false);
  });
  it('a stopped process is alive; a reused pid (other start time) is not its owner', () => {
    expect(isAliveByStat({ ...running, state: 'T' }, '100')).toBe(true);
    expect(isAliveByStat(running, '100')).toBe(true);
    expect(isAliveByStat(running, '101')).toBe(false);
    expect(isAliveByStat(running, '')).toBe(true);
  });
});

describe('isProcessAlive on real processes', () => {
  it('a running and a stopped child are alive; after SIGKILL and reaping it is dead', async () => {
    const child = spawn('sleep', ['30']);
    const pid = child.pid!;
    children.push(pid);
    const start = processStart(pid)!;
    expect(isProcessAlive({ pid, start })).toBe(true);
    expect(isProcessAlive({ pid, start: String(Number(start) + 1) })).toBe(false);
    process.kill(pid, 'SIGSTOP');
    waitForState(pid, 'T');
    expect(isProcessAlive({ pid, start })).toBe(true);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(pid, 'SIGKILL');
    await exited;
    expect(isProcessAlive({ pid, start })).toBe(false);
  });

  it('a zombie nobody reaps is dead although it still answers kill(pid, 0)', () => {
    // `sleep 1` becomes a child of the exec'd `sleep 30`, which never reaps it. It must outlive
    // the shell's exec: a child that ended first was reaped by the shell (on a loaded machine
    // `sleep 0` did, and its /proc entry was gone before the test looked).
    const parent = spawn('sh', ['-c', 'sleep 1 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(parent.pid!);
    return new Promise<void>((resolve, reject) => {
      parent.stdout!.once('data', (chunk: Buffer) => {
        try {
          const zombie = Number(String(chunk).trim());
          waitForState(zombie, 'Z');
          expect(() => process.kill(zombie, 0)).not.toThrow();
          expect(isProcessAlive({ pid: zombie, start: '' })).toBe(false);
          resolve();
        } catch (error) {
          reject(error);
        }
      });
    });
  });
});
