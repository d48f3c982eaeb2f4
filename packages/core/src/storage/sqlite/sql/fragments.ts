/**
 * Clauses several statements share, named once so that they cannot drift apart.
 */

/** A task of the types in the JSON array @types, or of any type when @types is NULL. */
export const TYPE_IN_TYPES = '(@types IS NULL OR type IN (SELECT value FROM json_each(@types)))';

/** Leaving `running`: the lease columns are set exactly in that status (the tasks CHECK says so). */
export const CLEAR_LEASE = 'lease_token = NULL, lease_expires_at = NULL, locked_by = NULL';
