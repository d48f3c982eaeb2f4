/**
 * The stress workload's `--exec` command, run by the shell workers for tasks of the `shell`
 * queue. Every execution appends "<task id> <attempt> <pid> start|tick|end <epoch ms>" lines to
 * $TASKLOCK_STRESS_EFFECTS: a start, a tick every ~20 ms (2–9 of them, by task id), an end. An
 * attempt that outlived its worker would go on ticking after the task's next attempt started,
 * which is what the checker's overlap invariant looks for: the tick period bounds how short an
 * overlap it can see.
 */
export const SHELL_QUEUE = 'shell';

export const SHELL_COMMAND = `e() { echo "$TASKLOCK_TASK_ID $TASKLOCK_ATTEMPT $$ $1 $(date +%s%3N)" >> "$TASKLOCK_STRESS_EFFECTS"; }
e start
n=$((TASKLOCK_TASK_ID % 8 + 2))
while [ $n -gt 0 ]; do sleep 0.02; e tick; n=$((n - 1)); done
e end`;
