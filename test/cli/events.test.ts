// tasklock events [--follow] [--after] [--type] [--json] on both stores, with a worker running
// meanwhile in another OS process (a library worker, type "job").
import { execa } from 'execa';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_MAIN, cli } from '../utils/cli.js';
import { startFixture } from '../utils/fixture-process.js';
import { cleanupLocations, LOCATIONS } from '../utils/store-locations.js';
import { until } from '../utils/until.js';

afterEach(cleanupLocations);

interface EventLine {
  id: string;
  taskId: number;
  transition: string;
  from: string | null;
  to: string;
  at: string;
}

const ndjson = (text: string): EventLine[] => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as EventLine);

for (const { name, make } of LOCATIONS) {
  describe(`tasklock events (${name})`, () => {
    it('--follow --json streams NDJSON of what another process does, until SIGTERM (exit 0); --after goes on exactly after an id', async () => {
      const db = await make();
      expect((await cli(['--db', db, 'init'])).code).toBe(0);
      const follower = execa(process.execPath, [CLI_MAIN, '--db', db, '--json', 'events', '--follow'], { reject: false, stdin: 'ignore', timeout: 30_000, killSignal: 'SIGKILL' });
      let out = '';
      follower.stdout!.on('data', (chunk: Buffer) => (out += String(chunk)));
      const worker = startFixture('queue-worker.mjs', [JSON.stringify({ db, types: ['job'], concurrency: 2 })]);
      await worker.waitForLine(/^started /);
      for (const n of [1, 2]) expect((await cli(['--db', db, 'enqueue', 'job', String(n)])).code).toBe(0);
      await until('both completions streamed', async () => ndjson(out).filter((e) => e.transition === 'complete').length === 2);
      follower.kill('SIGTERM');
      const ended = await follower;
      expect(ended.exitCode, String(ended.stderr)).toBe(0);
      const streamed = ndjson(out);
      expect(streamed).toHaveLength(6);
      expect(streamed[0]).toMatchObject({ transition: 'enqueue', from: null, to: 'pending', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
      // Without --follow: what is there, the same ids, then exit 0.
      const listed = await cli(['--db', db, '--json', 'events']);
      expect(listed.code, listed.stderr).toBe(0);
      expect(ndjson(listed.stdout).map((e) => e.id)).toEqual(streamed.map((e) => e.id));
      const rest = await cli(['--db', db, '--json', 'events', '--after', streamed[2]!.id]);
      expect(ndjson(rest.stdout).map((e) => e.id)).toEqual(streamed.slice(3).map((e) => e.id));
      expect((await cli(['--db', db, '--json', 'events', '--after', streamed[5]!.id])).stdout).toBe('');
      const claims = await cli(['--db', db, 'events', '--type', 'claim']);
      expect(claims.code).toBe(0);
      expect(claims.stdout.trimEnd().split('\n').map((line) => line.split(' ').slice(2, 6).join(' '))).toEqual(
        streamed.filter((e) => e.transition === 'claim').map((e) => `task ${e.taskId} claim pending→running`),
      );
    });

    it('bad input → exit 2: a malformed --after, an unknown --type', async () => {
      const db = await make();
      expect((await cli(['--db', db, 'init'])).code).toBe(0);
      const after = await cli(['--db', db, 'events', '--after', 'yesterday']);
      expect(after.code).toBe(2);
      expect(after.stderr).toMatch(/^tasklock: not an event cursor: "yesterday"/);
      expect((await cli(['--db', db, 'events', '--type', 'heartbeat'])).code).toBe(2);
    });
  });
}
