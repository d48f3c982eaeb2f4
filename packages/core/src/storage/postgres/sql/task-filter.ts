/**
 * The store-neutral task filter (statuses, with pending split into due and scheduled by the
 * server's now; types; queues; updated before) as one WHERE clause for list and bulk moves.
 */
import type { FilterInput } from '../../rows.js';

/** The filter as SQL, its parameters numbered from `first`. */
export function filterSql(filter: FilterInput, now: number, first: number): { sql: string; params: unknown[] } {
  const statuses = filter.statuses;
  const stored = (statuses ?? []).filter((s) => s !== 'pending' && s !== 'scheduled');
  const params: unknown[] = [
    statuses === null,
    stored,
    statuses?.includes('pending') ?? false,
    statuses?.includes('scheduled') ?? false,
    now,
    filter.types,
    filter.queues,
    filter.updatedBefore,
  ];
  const p = (i: number) => `$${first + i}`;
  const sql = `(${p(0)}::boolean OR status = ANY(${p(1)}::text[])
      OR (${p(2)}::boolean AND status = 'pending' AND run_at <= ${p(4)}::bigint)
      OR (${p(3)}::boolean AND status = 'pending' AND run_at > ${p(4)}::bigint))
    AND (${p(5)}::text[] IS NULL OR type = ANY(${p(5)}::text[]))
    AND (${p(6)}::text[] IS NULL OR queue = ANY(${p(6)}::text[]))
    AND (${p(7)}::bigint IS NULL OR updated_at <= ${p(7)}::bigint)`;
  return { sql, params };
}
