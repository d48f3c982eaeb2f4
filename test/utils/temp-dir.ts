import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const created: string[] = [];

/**
 * A fresh directory under os.tmpdir(), removed by `removeTempDirs()` (call it in afterEach).
 * World-traversable (0755) so that fixtures run as an unprivileged uid can reach inside it.
 */
export function makeTempDir(prefix = 'tasklock-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  created.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}
