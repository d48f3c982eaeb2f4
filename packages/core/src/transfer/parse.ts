/**
 * Reading an export (format.ts) back, line by line, checking everything before anything is
 * written: each line is JSON of the shape its place calls for, every field of the kind its
 * column holds and no field unknown, each task consistent in itself (the rules below are the
 * ones its store's writes keep), no task id twice, no unique key held twice among live tasks,
 * and the end line present with the counts it promises. The first problem refuses the whole
 * import as a BadInputError naming its line.
 */
import { BadInputError } from '../errors.js';
import type { TaskEventRow, TaskRecord, TaskRow, TaskRunRow } from '../storage/rows.js';
import { EVENT_FIELDS, EXPORT_FORMAT, EXPORT_VERSION, RUN_FIELDS, TASK_FIELDS, type ExportCounts, type ExportHeader, type FieldKind } from './format.js';

class LineError extends Error {}

function fail(message: string): never {
  throw new LineError(message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkValue(value: unknown, kind: FieldKind, where: string): void {
  if (typeof kind !== 'string') {
    const allowed = 'nullable' in kind ? kind.nullable : kind;
    if (value === null && 'nullable' in kind) return;
    if (typeof value !== 'string' || !allowed.includes(value)) fail(`${where} must be one of ${allowed.join(', ')}${'nullable' in kind ? ' or null' : ''}, got ${JSON.stringify(value)}`);
    return;
  }
  if (kind.endsWith('?') && value === null) return;
  switch (kind.replace('?', '')) {
    case 'id':
    case 'count':
    case 'int':
      if (!Number.isSafeInteger(value)) fail(`${where} must be an integer, got ${JSON.stringify(value)}`);
      if (kind === 'id' && (value as number) < 1) fail(`${where} must be at least 1, got ${String(value)}`);
      if (kind === 'count' && (value as number) < 0) fail(`${where} must not be negative, got ${String(value)}`);
      return;
    case 'json':
      if (typeof value !== 'string') fail(`${where} must be JSON text (a string), got ${JSON.stringify(value)}`);
      try {
        JSON.parse(value);
      } catch {
        fail(`${where} is not valid JSON text`);
      }
      return;
    default:
      if (typeof value !== 'string') fail(`${where} must be a string${kind.endsWith('?') ? ' or null' : ''}, got ${JSON.stringify(value)}`);
  }
}

/** An object with exactly `fields`, each of its kind. */
function checkFields<T>(value: unknown, fields: Readonly<Record<string, FieldKind>>, where: string): T {
  if (!isObject(value)) fail(`${where} must be a JSON object`);
  for (const key of Object.keys(value)) if (!(key in fields)) fail(`${where} has an unknown field ${JSON.stringify(key)}`);
  for (const [key, kind] of Object.entries(fields)) {
    if (!(key in value)) fail(`${where} lacks the field ${JSON.stringify(key)}`);
    checkValue(value[key], kind, `${where}.${key}`);
  }
  return value as T;
}

function listOf(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) fail(`${where} must be a JSON array`);
  return value;
}

/** The rules a store's own writes keep for one task and its runs (task-state.ts, runs.ts). */
function checkConsistent(task: TaskRow, runs: readonly TaskRunRow[], events: readonly TaskEventRow[]): void {
  const running = task.status === 'running';
  const leased = [task.lease_token, task.lease_expires_at, task.locked_by].every((v) => v !== null);
  const unleased = [task.lease_token, task.lease_expires_at, task.locked_by].every((v) => v === null);
  if (running ? !leased : !unleased) fail(`task ${task.id}: lease_token, lease_expires_at and locked_by must be set exactly when it is running`);
  if (task.released > task.attempts) fail(`task ${task.id}: released (${task.released}) exceeds attempts (${task.attempts})`);
  if (runs.length !== task.attempts) fail(`task ${task.id}: ${task.attempts} attempt(s) but ${runs.length} run(s); each attempt has one run`);
  runs.forEach((run, index) => {
    if (run.attempt !== index + 1) fail(`task ${task.id}: runs must be attempts 1 to ${task.attempts} in order; run ${index + 1} is attempt ${run.attempt}`);
    const open = run.outcome === 'running';
    if (open !== (running && index === runs.length - 1)) fail(`task ${task.id}: only the last run of a running task is open (run ${run.attempt} is ${run.outcome})`);
    if (open !== (run.finished_at === null)) fail(`task ${task.id}: run ${run.attempt} must have finished_at exactly when it has ended`);
  });
  for (const event of events) {
    if (event.attempt > task.attempts) fail(`task ${task.id}: an event at attempt ${event.attempt}, past its ${task.attempts} attempt(s)`);
  }
}

function parseTask(value: Record<string, unknown>): TaskRecord {
  for (const key of Object.keys(value)) if (!['task', 'runs', 'events'].includes(key)) fail(`unknown field ${JSON.stringify(key)}`);
  const task = checkFields<TaskRow>(value.task, TASK_FIELDS, 'task');
  const runs = listOf(value.runs, 'runs').map((run, i) => ({ task_id: task.id, ...checkFields<Omit<TaskRunRow, 'task_id'>>(run, RUN_FIELDS, `runs[${i}]`) }));
  const events = listOf(value.events, 'events').map((event, i) => ({
    id: null,
    task_id: task.id,
    ...checkFields<Omit<TaskEventRow, 'id' | 'task_id'>>(event, EVENT_FIELDS, `events[${i}]`),
  }));
  checkConsistent(task, runs, events);
  return { task, runs, events };
}

function parseHeader(value: Record<string, unknown>): ExportHeader {
  if (value.format !== EXPORT_FORMAT) fail(`not a tasklock export: the first line must be its header, {"format":"${EXPORT_FORMAT}",…}`);
  if (value.version !== EXPORT_VERSION) {
    fail(`export format version ${JSON.stringify(value.version)} is unknown to this tasklock (it reads version ${EXPORT_VERSION}); use the tasklock that wrote it, or a newer one`);
  }
  const source = value.source;
  if (!isObject(source) || typeof source.engine !== 'string' || !Number.isSafeInteger(source.schemaVersion)) fail('the header\'s "source" must be {"engine": text, "schemaVersion": integer}');
  if (typeof value.exportedAt !== 'string') fail('the header\'s "exportedAt" must be a time (text)');
  return value as unknown as ExportHeader;
}

export interface ParsedExport {
  header: ExportHeader;
  records: TaskRecord[];
  counts: ExportCounts;
}

/** Builds the records line by line; `finish()` checks the end. `source` names the input in errors. */
export class ExportReader {
  private header: ExportHeader | null = null;
  private end: ExportCounts | null = null;
  private readonly records: TaskRecord[] = [];
  private readonly idLines = new Map<number, number>();
  private readonly liveKeyLines = new Map<string, number>();
  private runs = 0;
  private events = 0;
  private lineNumber = 0;

  constructor(private readonly source: string) {}

  /** One line of the input (blank lines are skipped). */
  add(text: string): void {
    this.lineNumber += 1;
    if (text.trim() === '') return;
    try {
      this.addLine(text);
    } catch (error) {
      if (error instanceof LineError) throw new BadInputError(`import: ${this.source} line ${this.lineNumber}: ${error.message}; nothing was imported`);
      throw error;
    }
  }

  finish(): ParsedExport {
    if (this.header === null) throw new BadInputError(`import: ${this.source} is empty: not a tasklock export; nothing was imported`);
    if (this.end === null) {
      throw new BadInputError(`import: ${this.source} ends at line ${this.lineNumber} without its end line: the export was cut short; nothing was imported`);
    }
    return { header: this.header, records: this.records, counts: this.end };
  }

  private addLine(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(this.lineNumber === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    } catch (error) {
      fail(`not valid JSON: ${(error as Error).message}`);
    }
    if (!isObject(value)) fail('must be a JSON object');
    if (this.header === null) {
      this.header = parseHeader(value);
      return;
    }
    if (this.end !== null) fail('a line after the end line');
    if ('end' in value) {
      this.end = this.parseEnd(value);
      return;
    }
    const record = parseTask(value);
    this.claimIdentity(record.task);
    this.records.push(record);
    this.runs += record.runs.length;
    this.events += record.events.length;
  }

  /** No id twice, no live unique key twice: the target's constraints, found here with their lines. */
  private claimIdentity(task: TaskRow): void {
    const idLine = this.idLines.get(task.id);
    if (idLine !== undefined) fail(`task ${task.id} is also on line ${idLine}`);
    this.idLines.set(task.id, this.lineNumber);
    if (task.unique_key === null || !(task.status === 'pending' || task.status === 'running')) return;
    const keyLine = this.liveKeyLines.get(task.unique_key);
    if (keyLine !== undefined) fail(`unique key ${JSON.stringify(task.unique_key)} is held by another live task, on line ${keyLine}`);
    this.liveKeyLines.set(task.unique_key, this.lineNumber);
  }

  private parseEnd(value: Record<string, unknown>): ExportCounts {
    const counts = checkFields<ExportCounts>(value.end, { tasks: 'count', runs: 'count', events: 'count' }, 'end');
    const found = { tasks: this.records.length, runs: this.runs, events: this.events };
    if (counts.tasks !== found.tasks || counts.runs !== found.runs || counts.events !== found.events) {
      fail(`the end line counts ${counts.tasks} task(s), ${counts.runs} run(s), ${counts.events} event(s) but the file holds ${found.tasks}, ${found.runs}, ${found.events}`);
    }
    return counts;
  }
}
