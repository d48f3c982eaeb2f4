import { execa, type ResultPromise } from 'execa';
import { fileURLToPath } from 'node:url';

/** Absolute path of a program in test/fixtures. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

export interface FixtureExit {
  code: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  lines: readonly string[];
  stderr: string;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Run the command through this prefix (e.g. setpriv … to drop privileges). */
  prefix?: readonly string[];
  /** execa kills the child (SIGKILL) after this long: a hung child fails the test, never hangs it. */
  timeoutMs?: number;
}

interface LineWaiter {
  match: RegExp;
  resolve: (match: RegExpMatchArray) => void;
  reject: (error: Error) => void;
}

const live = new Set<FixtureProcess>();

/**
 * A Node program from test/fixtures running as a real OS process. Its stdout is split into
 * lines as they arrive; `waitForLine` resolves on the line itself (no sleeping, no polling)
 * and fails at once, with everything the child printed, if the child exits first.
 */
export class FixtureProcess {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<FixtureExit>;
  private cursor = 0;
  private partial = '';
  private waiters: LineWaiter[] = [];
  private exit: FixtureExit | undefined;
  private readonly child: ResultPromise;

  constructor(
    readonly name: string,
    args: readonly string[],
    options: StartOptions = {},
  ) {
    const command = [...(options.prefix ?? []), process.execPath, fixturePath(name), ...args];
    this.child = execa(command[0]!, command.slice(1), {
      env: options.env ?? {},
      stdin: 'pipe',
      buffer: false,
      reject: false,
      timeout: options.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    // The child may exit before reading its stdin; a write to the closed pipe is not an error here.
    this.child.stdin!.on('error', () => undefined);
    live.add(this);
    this.exited = this.child.then((result) => {
      if (this.partial !== '') this.pushLine(this.partial);
      this.partial = '';
      this.exit = {
        code: result.exitCode,
        signal: result.signal,
        timedOut: result.timedOut,
        lines: this.lines,
        stderr: this.stderr,
      };
      live.delete(this);
      for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure(`exited before printing ${waiter.match}`));
      return this.exit;
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  /** Resolves with the next unread stdout line matching `match` (lines before it are skipped). */
  waitForLine(match: RegExp | string): Promise<RegExpMatchArray> {
    const re = typeof match === 'string' ? new RegExp(`^${escapeRegExp(match)}$`) : match;
    const found = this.takeMatch(re);
    if (found) return Promise.resolve(found);
    if (this.exit) return Promise.reject(this.failure(`exited before printing ${re}`));
    return new Promise((resolve, reject) => this.waiters.push({ match: re, resolve, reject }));
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exit) this.child.kill(signal);
  }

  /** Waits for a normal exit; throws (with the child's output) on a non-zero code or a signal. */
  async succeeded(): Promise<FixtureExit> {
    const exit = await this.exited;
    if (exit.code !== 0) throw this.failure(`exited with ${exit.code ?? exit.signal}${exit.timedOut ? ' (timed out)' : ''}`);
    return exit;
  }

  private onStdout(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.pushLine(line);
  }

  private pushLine(line: string): void {
    this.lines.push(line);
    for (const waiter of [...this.waiters]) {
      const found = this.takeMatch(waiter.match);
      if (found) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(found);
      }
    }
  }

  private takeMatch(re: RegExp): RegExpMatchArray | undefined {
    for (let i = this.cursor; i < this.lines.length; i += 1) {
      const found = this.lines[i]!.match(re);
      if (found) {
        this.cursor = i + 1;
        return found;
      }
    }
    return undefined;
  }

  private failure(what: string): Error {
    return new Error(
      `fixture ${this.name} (pid ${this.child.pid}) ${what}\n--- stdout ---\n${this.lines.join('\n')}` +
        `${this.partial}\n--- stderr ---\n${this.stderr}`,
    );
  }
}

export function startFixture(name: string, args: readonly string[] = [], options?: StartOptions): FixtureProcess {
  return new FixtureProcess(name, args, options);
}

/** SIGKILLs every fixture still running and waits until each has exited (call in afterEach). */
export async function killAllFixtures(): Promise<void> {
  const running = [...live];
  for (const fixture of running) fixture.kill('SIGKILL');
  await Promise.all(running.map((fixture) => fixture.exited));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
