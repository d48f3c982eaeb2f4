/**
 * Schema version 7: each worker row says how long its heartbeat may be silent before the worker
 * counts as dead (`dead_after_ms`, the worker's own bound, written when it registers). A sweep on
 * any host judges a worker of another host by it — the pid check only works on the worker's own
 * host — so workers with different heartbeat settings never misjudge one another. Rows of older
 * workers keep NULL: they are judged as before (pid on their host, leases everywhere).
 */
export const sql = `
ALTER TABLE workers ADD COLUMN dead_after_ms INTEGER CHECK (dead_after_ms > 0);
`;
