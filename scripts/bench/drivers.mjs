#!/usr/bin/env node
// The driver measurement behind the PostgreSQL store's choice of `pg` (issue 14): `pg` 8 (as the
// store calls it: unnamed statements, and with named prepared statements) beside `postgres` 3
// (porsager; prepared statements by default), on the bench's private server (pg.mjs: fsync on),
// for the store's shapes on a table of 10,000 rows:
//   single   one parameterised single-row UPDATE per round trip, one connection, one at a time
//   batch    one UPDATE of 32 rows whose ids and values come as arrays through unnest()
//   pool     16 single-row UPDATEs in flight over 4 connections (a worker's pool)
// Each twice: with durable commits (the server's default: a commit waits for its WAL flush, which
// on a small machine is most of the cost), and with synchronous_commit=off on the drivers'
// sessions (what is left: the driver and the server's work). Runs alternate the drivers; each
// figure is the median of the runs, in statements/s.
//   node scripts/bench/drivers.mjs [--runs R] [--seconds S]
import postgres from 'postgres';
import { createDatabase, pg, query, startBenchPg } from './pg.mjs';
import { installCleanup, stopAtCleanup } from './proc.mjs';
import { fmt, median } from './stats.mjs';

const ROWS = 10_000;
const BATCH = 32;
const IN_FLIGHT = 16;
const POOL = 4;

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!(value > 0)) {
    console.error(`drivers: ${name} needs a positive number\nusage: node scripts/bench/drivers.mjs [--runs R] [--seconds S]`);
    process.exit(2);
  }
  return value;
};
const RUNS = option('--runs', 5);
const SECONDS = option('--seconds', 1);

const SINGLE = 'UPDATE bench SET n = n + 1, updated_at = $2 WHERE id = $1';
const BATCHED = 'UPDATE bench SET n = bench.n + 1, updated_at = v.at FROM unnest($1::bigint[], $2::bigint[]) AS v (id, at) WHERE bench.id = v.id';

/** Each driver as three calls: two statements on one connection, and one over a pool. */
const DRIVERS = {
  'pg 8 (unnamed statements, as the store)': (url, durable) => pgDriver(url, durable, false),
  'pg 8 (named prepared statements)': (url, durable) => pgDriver(url, durable, true),
  'postgres 3 (prepared, its default)': (url, durable) => postgresDriver(url, durable),
};

function pgDriver(url, durable, named) {
  const config = { connectionString: url, ...(durable ? {} : { options: '-c synchronous_commit=off' }) };
  const one = new pg.Client(config);
  const pool = new pg.Pool({ ...config, max: POOL });
  const statement = (name, text, values) => (named ? { name, text, values } : { text, values });
  return {
    connect: async () => {
      await one.connect();
      await Promise.all(Array.from({ length: POOL }, () => pool.query('SELECT 1')));
    },
    single: (id, at) => one.query(statement('single', SINGLE, [id, at])),
    batch: (ids, ats) => one.query(statement('batch', BATCHED, [ids, ats])),
    pooled: (id, at) => pool.query(statement('single', SINGLE, [id, at])),
    end: async () => {
      await one.end();
      await pool.end();
    },
  };
}

function postgresDriver(url, durable) {
  // postgres 3 does not decode a socket directory from the URL's host: it is given apart.
  const parsed = new URL(url);
  const at = {
    host: decodeURIComponent(parsed.hostname),
    database: parsed.pathname.slice(1),
    username: decodeURIComponent(parsed.username),
    connection: durable ? {} : { synchronous_commit: 'off' },
  };
  const one = postgres({ ...at, max: 1 });
  const pool = postgres({ ...at, max: POOL });
  return {
    connect: async () => {
      await one`SELECT 1`;
      await Promise.all(Array.from({ length: POOL }, () => pool`SELECT 1`));
    },
    single: (id, at) => one.unsafe(SINGLE, [id, at], { prepare: true }),
    batch: (ids, ats) => one.unsafe(BATCHED, [ids, ats], { prepare: true }),
    pooled: (id, at) => pool.unsafe(SINGLE, [id, at], { prepare: true }),
    end: async () => {
      await one.end();
      await pool.end();
    },
  };
}

/** Statements per second of `step` run back to back by `lanes` callers for the given time. */
async function rate(step, lanes, seconds) {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < until) {
        await step();
        done += 1;
      }
    }),
  );
  return done / seconds;
}

const randomId = () => 1 + Math.floor(Math.random() * ROWS);
const SHAPES = {
  single: (d) => rate(() => d.single(randomId(), Date.now()), 1, SECONDS),
  batch: (d) => rate(() => d.batch(Array.from({ length: BATCH }, randomId).sort((a, b) => a - b), Array(BATCH).fill(Date.now())), 1, SECONDS),
  pool: (d) => rate(() => d.pooled(randomId(), Date.now()), IN_FLIGHT, SECONDS),
};

installCleanup();
const server = await startBenchPg();
const release = stopAtCleanup(server.stop);
try {
  const url = await createDatabase(server.url, 'drivers');
  await query(url, `CREATE TABLE bench (id bigint PRIMARY KEY, n int NOT NULL, updated_at bigint NOT NULL)`);
  await query(url, `INSERT INTO bench SELECT g, 0, 0 FROM generate_series(1, ${ROWS}) AS g`);
  const modes = { 'durable commits (default)': true, 'synchronous_commit=off': false };
  const figures = {};
  for (let run = 0; run < RUNS; run += 1) {
    for (const [mode, durable] of Object.entries(modes)) {
      for (const [name, make] of Object.entries(DRIVERS)) {
        const driver = make(url, durable);
        await driver.connect();
        const f = (figures[`${mode}\t${name}`] ??= { mode, name, single: [], batch: [], pool: [] });
        for (const [shape, measure] of Object.entries(SHAPES)) f[shape].push(await measure(driver));
        await driver.end();
        process.stderr.write(`[drivers] run ${run + 1}/${RUNS}, ${mode}, ${name}: ${Object.keys(SHAPES).map((s) => `${s} ${Math.round(f[s].at(-1))}`).join(', ')}\n`);
      }
    }
  }
  const cell = (f, shape) => {
    const base = Object.values(figures).find((b) => b.mode === f.mode)[shape];
    return `${fmt(median(f[shape]))} (${fmt(median(f[shape]) / median(base), 2)}×)`;
  };
  console.log(`PostgreSQL ${server.version}, fsync on; median of ${RUNS} alternated runs of ${SECONDS} s each; statements/s (÷ the first driver of its mode)\n`);
  console.log(`| commits | driver | single-row UPDATE, 1 connection | UPDATE of ${BATCH} rows via unnest, 1 connection | single-row UPDATE, ${IN_FLIGHT} in flight over ${POOL} connections |`);
  console.log('| --- | --- | --- | --- | --- |');
  for (const f of Object.values(figures)) console.log(`| ${f.mode} | ${f.name} | ${cell(f, 'single')} | ${cell(f, 'batch')} | ${cell(f, 'pool')} |`);
} finally {
  release();
  server.stop();
}
