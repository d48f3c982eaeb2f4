/**
 * The one WHERE clause that selects tasks by status view, type, queue and age: `list` pages
 * through it and the bulk cancel/retry walk it, so a filter means the same set everywhere.
 * Inputs (named parameters, see filterParams): a status list split into stored statuses plus
 * the two halves of pending (due, scheduled) against @now; JSON arrays of types and queues
 * (NULL: any); @updatedBefore (NULL: any age). Every clause is a constant; user values are
 * only ever bound.
 */
import type { FilterInput } from '../../rows.js';
import { TYPE_IN_TYPES } from './fragments.js';

export interface FilterParams {
  anyStatus: 0 | 1;
  stored: string;
  duePending: 0 | 1;
  scheduled: 0 | 1;
  now: number;
  types: string | null;
  queues: string | null;
  updatedBefore: number | null;
}

export const TASK_FILTER_SQL = `
  (@anyStatus = 1
     OR status IN (SELECT value FROM json_each(@stored))
     OR (@duePending = 1 AND status = 'pending' AND run_at <= @now)
     OR (@scheduled = 1 AND status = 'pending' AND run_at > @now))
  AND ${TYPE_IN_TYPES}
  AND (@queues IS NULL OR queue IN (SELECT value FROM json_each(@queues)))
  AND (@updatedBefore IS NULL OR updated_at <= @updatedBefore)`;

export function filterParams(filter: FilterInput, now: number): FilterParams {
  const statuses = filter.statuses;
  return {
    anyStatus: statuses === null ? 1 : 0,
    stored: JSON.stringify((statuses ?? []).filter((s) => s !== 'pending' && s !== 'scheduled')),
    duePending: statuses?.includes('pending') ? 1 : 0,
    scheduled: statuses?.includes('scheduled') ? 1 : 0,
    now,
    types: filter.types === null ? null : JSON.stringify(filter.types),
    queues: filter.queues === null ? null : JSON.stringify(filter.queues),
    updatedBefore: filter.updatedBefore,
  };
}
