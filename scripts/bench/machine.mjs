// What the figures were measured on, and how busy the machine was (other processes share the cores).
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { Database, requireFromCore } from './sqlite.mjs';
import { sleep } from './proc.mjs';

export function machineInfo() {
  const cpuinfo = safeRead('/proc/cpuinfo');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  // An in-memory connection only asks the library its version: it touches no benchmark file.
  const memory = new Database(':memory:');
  const sqlite = memory.prepare('select sqlite_version() AS v').get().v;
  memory.close();
  return {
    nproc: cpus().length,
    cpu: model,
    node: process.version,
    sqlite,
    betterSqlite3: requireFromCore('better-sqlite3/package.json').version,
  };
}

/** The 1-minute load average. */
export function load1() {
  return Number(safeRead('/proc/loadavg').split(' ')[0]);
}

/**
 * Waits (up to `maxWaitS`) for the 1-minute load to drop to `maxLoad`; the figures of a run on a
 * busy machine are still printed, with the load beside them.
 */
export async function waitForQuietMachine(maxLoad, maxWaitS, log) {
  const started = Date.now();
  let load = load1();
  if (load <= maxLoad) return { load, waitedS: 0 };
  log(`load ${load.toFixed(2)} > ${maxLoad}: waiting up to ${maxWaitS} s for the machine to calm down…`);
  while (load > maxLoad && Date.now() - started < maxWaitS * 1000) {
    await sleep(5000);
    load = load1();
  }
  const waitedS = Math.round((Date.now() - started) / 1000);
  log(load > maxLoad ? `load still ${load.toFixed(2)} after ${waitedS} s: running anyway` : `load ${load.toFixed(2)} after ${waitedS} s`);
  return { load, waitedS };
}

function safeRead(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
