// The statements a tasklock claim and complete execute, as the built core exports them
// (HOT_PATH_SQL of @tasklock/core/sqlite, the very strings its store prepares), so the ceiling
// runs exactly tasklock's SQL with none of its code around it, and cannot drift from it.
import { HOT_PATH_SQL } from '@tasklock/core/sqlite';

export const SQL = {
  ...HOT_PATH_SQL,
  // Not tasklock's: the same claim + batched complete on children/ceiling.mjs's 3-column table.
  minimalClaim: `UPDATE tasks SET status = 'running', attempts = attempts + 1, lease_token = @nonce || ':' || id
     WHERE status = 'pending' AND id IN (SELECT id FROM tasks WHERE status = 'pending' ORDER BY id LIMIT @limit)
     RETURNING id, lease_token, attempts`,
  minimalComplete: `UPDATE tasks SET status = 'succeeded', lease_token = NULL
     FROM json_each(@done) AS d
     WHERE tasks.id = d.value ->> 0 AND tasks.status = 'running' AND tasks.lease_token = d.value ->> 1
     RETURNING tasks.id`,
};
