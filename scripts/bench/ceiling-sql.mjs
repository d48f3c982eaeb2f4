// The statements a tasklock claim and complete execute, copied from packages/core/src/storage/sqlite/sql/
// (claim.ts, runs.ts, events.ts, finish.ts, with the shared clauses of fragments.ts written out)
// so the ceiling runs exactly tasklock's SQL with none of its code around it. `driftFromCore()`
// checks the copies against the built core, so a change there shows up in the report instead of
// silently comparing against stale SQL.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CLAIM_CANDIDATES_SQL } from '@tasklock/core/sqlite';

const BUILT_SQL = new URL('../../packages/core/dist/storage/sqlite/sql/', import.meta.url);

const PLACEHOLDER = '${CLAIM_CANDIDATES_SQL}';

// sql/claim.ts, built around the exported candidate subquery exactly as prepareClaim() does.
const CLAIM_TEMPLATE = `UPDATE tasks
     SET status = 'running',
         attempts = attempts + 1,
         lease_token = @nonce || ':' || id || ':' || (attempts + 1),
         lease_expires_at = @now + @leaseMs,
         locked_by = @workerId,
         updated_at = @now
     WHERE status = 'pending' AND id IN (${PLACEHOLDER})
     RETURNING *`;

export const SQL = {
  claim: CLAIM_TEMPLATE.replace(PLACEHOLDER, CLAIM_CANDIDATES_SQL),
  // sql/runs.ts
  runOpen: `INSERT INTO task_runs (task_id, attempt, worker_id, lease_token, started_at, outcome)
     VALUES (@taskId, @attempt, @workerId, @token, @now, 'running')`,
  runClose: `UPDATE task_runs SET finished_at = @now, outcome = @outcome, error = @error
     WHERE task_id = @taskId AND attempt = @attempt AND outcome = 'running'`,
  // sql/events.ts
  event: `INSERT INTO task_events (task_id, at, transition, from_status, to_status, attempt, worker_id, detail)
     VALUES (@taskId, @at, @transition, @from, @to, @attempt, @workerId, @detail)`,
  // sql/finish.ts (CLEAR_LEASE of sql/fragments.ts written out)
  complete: `UPDATE tasks SET status = 'succeeded', result = @result, updated_at = @now, finished_at = @now,
                      lease_token = NULL, lease_expires_at = NULL, locked_by = NULL
     WHERE id = @id AND status = 'running' AND lease_token = @token
     RETURNING attempts, status, locked_by`,
  // Not tasklock's: the minimal claim + complete of children/ceiling.mjs's "minimal" variant.
  minimalClaim: `UPDATE tasks SET status = 'running', attempts = attempts + 1, lease_token = @nonce || ':' || id
     WHERE status = 'pending' AND id IN (SELECT id FROM tasks WHERE status = 'pending' ORDER BY id LIMIT @limit)
     RETURNING id, lease_token, attempts`,
  minimalComplete: `UPDATE tasks SET status = 'succeeded', lease_token = NULL
     WHERE id = @id AND status = 'running' AND lease_token = @token
     RETURNING attempts, status`,
};

// Each copy beside the built file it comes from; the copies are compared fully written out.
const SOURCES = {
  claim: ['claim.js', SQL.claim],
  runOpen: ['runs.js', SQL.runOpen],
  runClose: ['runs.js', SQL.runClose],
  event: ['events.js', SQL.event],
  complete: ['finish.js', SQL.complete],
};

/** The built source with each `${NAME}` it interpolates replaced by its text; unknown names stay as they are. */
function interpolate(source, values) {
  return source.replace(/\$\{(\w+)\}/g, (whole, name) => (typeof values[name] === 'string' ? values[name] : whole));
}

/**
 * Names of the copied statements that no longer appear verbatim (whitespace aside) in the built
 * core, whose statements are compared as they run: the shared clauses of sql/fragments.ts (not
 * exported by the package: read from the built module) and the exported candidate subquery
 * interpolated into them.
 */
export async function driftFromCore() {
  const squash = (text) => text.replace(/\s+/g, ' ').trim();
  const drifted = [];
  let values = { CLAIM_CANDIDATES_SQL };
  try {
    values = { ...(await import(new URL('fragments.js', BUILT_SQL).href)), ...values };
  } catch {
    drifted.push('shared clauses (fragments.js unreadable)');
  }
  for (const [name, [file, text]] of Object.entries(SOURCES)) {
    const path = fileURLToPath(new URL(file, BUILT_SQL));
    let source = '';
    try {
      source = readFileSync(path, 'utf8');
    } catch {
      drifted.push(`${name} (${file} unreadable)`);
      continue;
    }
    if (!squash(interpolate(source, values)).includes(squash(text))) drifted.push(`${name} (${file})`);
  }
  return drifted;
}
