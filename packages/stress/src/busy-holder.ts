#!/usr/bin/env node
/**
 * The `busy` fault: an outside connection (not tasklock's, so not under its lock) holds
 * BEGIN IMMEDIATE for `holdMs`, making every tasklock writer meet SQLITE_BUSY meanwhile.
 * usage: busy-holder.js <db> <holdMs>
 */
import { openRaw } from './raw-database.js';
const [db, holdMs] = process.argv.slice(2) as [string, string];
const connection = openRaw(db, { timeout: 10_000 });
connection.exec('BEGIN IMMEDIATE');
console.log('holding');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(holdMs));
connection.exec('COMMIT');
connection.close();
