import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Queue } from '@tasklock/core';

/**
 * A fresh database for the demo. The default path (.tasklock/demo.db) is always recreated; a
 * path given with --db is deleted first only if it holds nothing but demo tasks, so a typo
 * cannot wipe a real queue.
 */
export async function prepareDatabase(path: string | undefined, isDefault: boolean): Promise<{ db: string; logDir: string }> {
  const db = resolve(path ?? '.tasklock/demo.db');
  await mkdir(dirname(db), { recursive: true });
  if (existsSync(db) && !isDefault && !(await onlyDemoTasks(db))) {
    throw new Error(`${db} exists and holds more than demo tasks; give --db a new path`);
  }
  for (const suffix of ['', '-wal', '-shm', '.lock']) rmSync(`${db}${suffix}`, { recursive: true, force: true });
  const logDir = resolve(dirname(db), 'demo-logs');
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  return { db, logDir };
}

async function onlyDemoTasks(db: string): Promise<boolean> {
  let queue: Queue;
  try {
    queue = await Queue.open(db);
  } catch {
    return false;
  }
  try {
    return Object.keys((await queue.stats()).byType).every((type) => type.startsWith('demo.'));
  } finally {
    queue.close();
  }
}
