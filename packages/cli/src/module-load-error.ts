/**
 * Where a handler module failed to load, as `file:line:column: Class: message`.
 *
 * Node says where in three different ways, depending on how the load failed:
 *   - thrown while the module ran (top-level code): the stack's first frame outside Node;
 *   - an import that names a missing export: Node prefixes the stack with the place, the source
 *     line and a caret (`file:///h.mjs:1\nimport { x } from "./y.mjs";\n         ^`);
 *   - a syntax error, in the module or in any module it imports: nowhere in the error object.
 *     Node prints the place only when such an error is uncaught. So we let it: a child Node
 *     imports the same module and we read the place from what it prints. A module graph with a
 *     syntax error fails before any of its code runs, so the child runs none of the handler's
 *     code. It costs one Node start-up (~50 ms), and only when the load has already failed.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { errorText, firstLine } from '@tasklock/core';

/** Longest wait for the child that locates a syntax error; past it, the error goes without a place. */
const LOCATE_TIMEOUT_MS = 10_000;

export async function describeLoadError(error: unknown, path: string): Promise<string> {
  const summary = firstLine(errorText(error, { detail: 'full' }));
  const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : '';
  const place = caretPlace(stack) ?? framePlace(stack) ?? (isSyntaxError(error) ? await syntaxErrorPlace(path) : null);
  return place === null ? summary : `${place}: ${summary}`;
}

function isSyntaxError(error: unknown): boolean {
  return error instanceof Error && error.name === 'SyntaxError';
}

/**
 * Node's "arrow" prefix: `<file URL or path>:<line>`, the source line, then spaces and carets
 * under the culprit. Column = the first caret's position, counted from 1.
 */
export function caretPlace(text: string): string | null {
  const [where, source, caret] = text.split('\n');
  const match = /^(.+):(\d+)$/.exec(where ?? '');
  if (match === null || source === undefined || caret === undefined || !/^\s*\^+\s*$/.test(caret)) return null;
  const file = pathOf(match[1]!);
  return file === null ? null : `${file}:${match[2]}:${caret.indexOf('^') + 1}`;
}

/** The first `at … (file:line:col)` frame in a file of the user's (not node:internal). */
function framePlace(stack: string): string | null {
  for (const line of stack.split('\n')) {
    const match = /^\s+at (?:.*\()?(.+?):(\d+):(\d+)\)?$/.exec(line);
    if (match === null) continue;
    const file = pathOf(match[1]!);
    if (file !== null) return `${file}:${match[2]}:${match[3]}`;
  }
  return null;
}

/** A file:// URL or absolute path as a path; null for node:internal, evalmachine and the like. */
function pathOf(location: string): string | null {
  if (location.startsWith('file://')) {
    try {
      return fileURLToPath(location);
    } catch {
      return null;
    }
  }
  return location.startsWith('/') ? location : null;
}

function syntaxErrorPlace(path: string): Promise<string | null> {
  // The same loader flags as ours (--import tsx, --conditions…), but no debugger port.
  const flags = process.execArgv.filter((flag) => !flag.startsWith('--inspect'));
  const args = [...flags, '--input-type=module', '-e', 'await import(process.argv[1])', pathToFileURL(path).href];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: LOCATE_TIMEOUT_MS, killSignal: 'SIGKILL', encoding: 'utf8' }, (_error, _stdout, stderr) => {
      resolve(caretPlace(stderr));
    });
  });
}
