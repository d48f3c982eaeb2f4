/**
 * Waits for a condition on the real system (a database row, a process's state) by looking again
 * every 20 ms: for conditions nothing signals. Bounded: a condition that never comes is a failed
 * test, named by `what`, never a hang.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
