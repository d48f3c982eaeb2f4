/** The demo drives the real `tasklock` binary: one-shot commands and long-running workers. */
import { execa, type Result, type ResultPromise } from 'execa';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real `tasklock` binary, as users run it. */
const MAIN = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));
const HANDLER = fileURLToPath(new URL('./handler.js', import.meta.url));

/** Runs `tasklock <args>` to completion; throws with its stderr if it fails. */
export async function tasklock(args: readonly string[], input?: string): Promise<Result> {
  const result = await execa(process.execPath, [MAIN, ...args], { reject: false, input: input ?? '' });
  if (result.exitCode !== 0) {
    throw new Error(`tasklock ${args.join(' ')} exited with ${result.exitCode ?? result.signal}: ${String(result.stderr).trim()}`);
  }
  return result;
}

interface DemoWorker {
  id: string;
  child: ResultPromise;
  exited: Promise<{ code: number | undefined; signal: string | undefined }>;
}

/** `tasklock worker` processes running the demo handler, each logging to its own file. */
export class Workers {
  private readonly workers: DemoWorker[] = [];
  private started = 0;

  constructor(
    private readonly db: string,
    private readonly logDir: string,
  ) {}

  start(): string {
    this.started += 1;
    const id = `demo-${this.started}`;
    const args = ['--db', this.db, 'worker', '--handler', HANDLER, '--concurrency', '8', '--lease', '3000', '--worker-id', id];
    const child = execa(process.execPath, [MAIN, ...args], {
      reject: false,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: { file: join(this.logDir, `${id}.log`) },
    });
    const exited = child.then((result) => ({ code: result.exitCode, signal: result.signal }));
    this.workers.push({ id, child, exited });
    return id;
  }

  pidOf(id: string): number | undefined {
    return this.workers.find((w) => w.id === id)?.child.pid;
  }

  /** SIGKILL: no shutdown, no hand-back; its leases must be reclaimed by the others. */
  async crash(id: string): Promise<void> {
    const worker = this.workers.find((w) => w.id === id);
    if (!worker) throw new Error(`no demo worker ${id}`);
    worker.child.kill('SIGKILL');
    await worker.exited;
  }

  ids(exclude: ReadonlySet<string>): string[] {
    return this.workers.filter((w) => !exclude.has(w.id)).map((w) => w.id);
  }

  /** SIGTERM every worker still running; resolves with the ids of those that did not exit 0. */
  async stop(exclude: ReadonlySet<string>): Promise<string[]> {
    const live = this.workers.filter((w) => !exclude.has(w.id));
    for (const worker of live) worker.child.kill('SIGTERM');
    const exits = await Promise.all(live.map((w) => w.exited));
    return live.flatMap((w, i) => (exits[i]!.code === 0 ? [] : [`${w.id} (${exits[i]!.code ?? exits[i]!.signal})`]));
  }

  /** Last resort on the way out after a failure. */
  killAll(): void {
    for (const worker of this.workers) worker.child.kill('SIGKILL');
  }

  get count(): number {
    return this.started;
  }
}
