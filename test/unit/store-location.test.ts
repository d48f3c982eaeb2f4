import { describe, expect, it } from 'vitest';
import { parseLocation } from '@tasklock/core';

describe('parseLocation: which store a location names', () => {
  it('a file path is the SQLite store, as written', () => {
    for (const path of ['queue.db', './data/queue.db', '/var/lib/tasklock/queue.db', 'C:\\queues\\q.db', 'D:/q.db']) {
      expect(parseLocation(path)).toEqual({ engine: 'sqlite', address: path });
    }
  });

  it('sqlite: URLs: sqlite:relative, sqlite:/absolute, sqlite:///absolute (empty authority)', () => {
    expect(parseLocation('sqlite:queue.db')).toEqual({ engine: 'sqlite', address: 'queue.db' });
    expect(parseLocation('sqlite:/tmp/q.db')).toEqual({ engine: 'sqlite', address: '/tmp/q.db' });
    expect(parseLocation('sqlite:///tmp/q.db')).toEqual({ engine: 'sqlite', address: '/tmp/q.db' });
    expect(parseLocation('SQLITE:q.db')).toEqual({ engine: 'sqlite', address: 'q.db' });
  });

  it('postgres:// and postgresql:// connection strings are the PostgreSQL store, passed on whole', () => {
    for (const url of ['postgres://app:secret@db.internal:5432/jobs', 'postgresql://localhost/jobs?sslmode=require', 'POSTGRES://h/d']) {
      expect(parseLocation(url)).toEqual({ engine: 'postgres', address: url });
    }
  });

  it('refuses, as bad input, an empty location, a sqlite: URL without a path, and a scheme no store has', () => {
    for (const [location, message] of [
      ['', /location is empty/],
      ['sqlite:', /no database path after sqlite:/],
      ['sqlite://', /no database path after sqlite:/],
      ['redis://localhost/0', /unknown store scheme redis: \(give a file path, a sqlite: URL or a postgres:\/\/ connection string\)/],
    ] as const) {
      expect(() => parseLocation(location)).toThrow(expect.objectContaining({ code: 'bad-input', message: expect.stringMatching(message) }));
    }
  });
});
