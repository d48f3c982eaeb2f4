/**
 * How tasklock writes an error down: the one place that turns a thrown value into text — for a
 * task's stored `last_error` and its run's `error`, and (the first line) for log lines.
 *
 * Full text, as stored for a failed attempt:
 *
 *     TypeError: multi            ← the class, then every line of the message
 *     line error
 *         at handle (file:///srv/h.mjs:2:9)         ← the stack's frames
 *     caused by: Error [ECONNRESET]: socket hang up  ← each `cause`, the same way
 *         at …
 *
 * at most MAX_ERROR_BYTES of UTF-8. Text that did not fit says so where it was cut
 * (`… [truncated 1234 bytes]`): the message keeps its start, and the frames keep at least
 * TRACE_BUDGET_BYTES, so a huge message cannot push out where the error was thrown.
 */

/** Upper bound of a stored error, in UTF-8 bytes. */
export const MAX_ERROR_BYTES = 8 * 1024;

/** What the frames and causes keep when the whole does not fit (the message gets the rest). */
const TRACE_BUDGET_BYTES = 2 * 1024;
/** Causes followed, and cycles cut: a cause chain is data from user code. */
const MAX_CAUSES = 5;

/**
 * A failure its message describes in full — a command's exit status and stderr, a timeout — so
 * it is stored as the message alone: no class, no stack (which would only point into the code
 * that noticed the failure, not at the failure). Handlers may throw it for expected failures.
 */
export class TaskFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TaskFailure';
  }
}

export interface ErrorTextOptions {
  /**
   * 'full' (default): class, message, frames and causes. 'message': the message alone, for
   * failures tasklock itself describes (a timeout, a lost lease) whose stack says nothing.
   */
  detail?: 'full' | 'message';
  maxBytes?: number;
}

export function errorText(error: unknown, options: ErrorTextOptions = {}): string {
  const maxBytes = options.maxBytes ?? MAX_ERROR_BYTES;
  const full = (options.detail ?? 'full') === 'full' && !(error instanceof TaskFailure);
  const parts = full ? describeFull(error) : { head: messageOf(error), trace: '' };
  return bounded(parts.head, parts.trace, maxBytes);
}

/** One line for a log: the first line of the message (no class, no stack). */
export function errorSummary(error: unknown): string {
  return firstLine(messageOf(error));
}

/**
 * One line naming the error's code (ENOSPC, SQLITE_FULL…) as well, when its message does not
 * already say it: for errors from the OS or an engine, whose code is half of what happened.
 */
export function errorLineWithCode(error: unknown): string {
  const summary = errorSummary(error);
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && !summary.includes(code) ? `${code}: ${summary}` : summary;
}

/** For a log line's `code` field: the engine's code when there is one, else tasklock's. */
export function engineCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { engineCode, code } = error as { engineCode?: unknown; code?: unknown };
  if (typeof engineCode === 'string') return engineCode;
  return typeof code === 'string' ? code : undefined;
}

export function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.trimEnd();
}

interface ErrorLike {
  name?: unknown;
  message: string;
  stack?: unknown;
  code?: unknown;
  cause?: unknown;
}

/** Errors of another realm (vm, a worker thread's structured clone) fail `instanceof Error`. */
function isErrorLike(value: unknown): value is ErrorLike {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

function messageOf(error: unknown): string {
  if (isErrorLike(error)) return error.message === '' ? nameOf(error) : error.message;
  return valueText(error);
}

function nameOf(error: ErrorLike): string {
  if (typeof error.name === 'string' && error.name !== '') return error.name;
  return (error as { constructor?: { name?: string } }).constructor?.name || 'Error';
}

/** A thrown non-Error: a string as it is, anything else as JSON when it has a JSON form. */
function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    const json = JSON.stringify(value);
    if (typeof json === 'string') return json;
  } catch {
    // Circular or BigInt: String() below.
  }
  return String(value);
}

function describeFull(error: unknown): { head: string; trace: string } {
  if (!isErrorLike(error)) return { head: valueText(error), trace: '' };
  const outer = describeOne(error);
  const trace = [...outer.frames];
  const seen = new Set<unknown>([error]);
  let cause = error.cause;
  for (let depth = 0; cause !== undefined && depth < MAX_CAUSES; depth += 1) {
    if (seen.has(cause)) {
      trace.push('caused by: (a cycle back to an error above)');
      break;
    }
    seen.add(cause);
    if (!isErrorLike(cause)) {
      trace.push(`caused by: ${valueText(cause)}`);
      break;
    }
    const inner = describeOne(cause);
    trace.push(`caused by: ${inner.head}`, ...inner.frames);
    cause = cause.cause;
  }
  return { head: outer.head, trace: trace.join('\n') };
}

function describeOne(error: ErrorLike): { head: string; frames: string[] } {
  const code = typeof error.code === 'string' || typeof error.code === 'number' ? String(error.code) : '';
  // Node's own form: "Error [ERR_MODULE_NOT_FOUND]: Cannot find package …".
  const label = code !== '' && !error.message.includes(code) ? `${nameOf(error)} [${code}]` : nameOf(error);
  return { head: error.message === '' ? label : `${label}: ${error.message}`, frames: framesOf(error) };
}

/**
 * The "    at …" lines of a stack. The stack repeats the message (which may itself hold lines
 * that look like frames), and Node may put the source line of a syntax error before it: take
 * the frames after the message.
 */
function framesOf(error: ErrorLike): string[] {
  if (typeof error.stack !== 'string') return [];
  const at = error.message === '' ? -1 : error.stack.indexOf(error.message);
  const rest = at < 0 ? error.stack : error.stack.slice(at + error.message.length);
  return rest
    .split('\n')
    .filter((line) => /^\s+at\s/.test(line))
    .map((line) => `    ${line.trim()}`);
}

function bounded(head: string, trace: string, maxBytes: number): string {
  const whole = trace === '' ? head : `${head}\n${trace}`;
  if (Buffer.byteLength(whole) <= maxBytes) return whole;
  if (trace === '') return truncate(head, maxBytes);
  const traceBytes = Math.min(Buffer.byteLength(trace), TRACE_BUDGET_BYTES, Math.floor(maxBytes / 4));
  // The message first: its start names the failure. The frames get what it leaves, at least traceBytes.
  const headPart = truncate(head, Math.max(0, maxBytes - 1 - traceBytes));
  const tracePart = truncate(trace, maxBytes - 1 - Buffer.byteLength(headPart));
  return `${headPart}\n${tracePart}`;
}

/** At most maxBytes of UTF-8, cut at a character boundary, ending in a marker when cut. */
export function truncate(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  const reserve = Buffer.byteLength(marker(bytes.length));
  let keep = Math.max(0, maxBytes - reserve);
  // Never split a multi-byte character: step back over continuation bytes (10xxxxxx).
  while (keep > 0 && (bytes[keep]! & 0xc0) === 0x80) keep -= 1;
  const kept = bytes.subarray(0, keep).toString('utf8');
  const cut = `${kept}${marker(bytes.length - keep)}`;
  return Buffer.byteLength(cut) <= maxBytes ? cut : '';
}

function marker(droppedBytes: number): string {
  return `\n… [truncated ${droppedBytes} bytes]`;
}
