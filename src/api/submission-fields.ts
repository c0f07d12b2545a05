import type { SubmissionRecord } from '../engine/submissions/types.js';
import { InvalidRequestError } from '../errors.js';
import { printable } from '../safe-text.js';
import { RECORD_FIELDS, RESULT_FIELDS } from './schemas/submissions.js';

/** What `?fields=` asked for: whole top-level fields, and fields of `result`. Undefined: everything. */
export interface FieldSelection {
  top: Set<string>;
  result: Set<string>;
}

/** Parses `fields` (`a,b,result.c`, `*` = all); an unknown name is a 400 naming `fields`. */
export function parseFields(raw: string | undefined): FieldSelection | undefined {
  if (raw === undefined || raw.trim() === '*') return undefined;
  const selection: FieldSelection = { top: new Set(), result: new Set() };
  for (const name of raw.split(',').map((part) => part.trim()).filter(Boolean)) {
    const sub = name.startsWith('result.') ? name.slice('result.'.length) : undefined;
    if (sub !== undefined && RESULT_FIELDS.includes(sub)) selection.result.add(sub);
    else if (sub === undefined && RECORD_FIELDS.includes(name)) selection.top.add(name);
    else throw new InvalidRequestError('fields', `'${printable(name)}' is not a field of a submission (known: ${RECORD_FIELDS.join(', ')}, result.<${RESULT_FIELDS.join('|')}>)`);
  }
  if (selection.top.size === 0 && selection.result.size === 0) throw new InvalidRequestError('fields', 'names no field');
  return selection;
}

/** The record with only the selected fields (a `result.*` field keeps `result` with just those). */
export function selectFields(record: SubmissionRecord, selection: FieldSelection | undefined): Partial<SubmissionRecord> {
  if (!selection) return record;
  const picked: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record)) if (selection.top.has(name)) picked[name] = value;
  if (record.result && selection.result.size > 0 && !selection.top.has('result')) {
    picked.result = Object.fromEntries(Object.entries(record.result).filter(([name]) => selection.result.has(name)));
  }
  return picked as Partial<SubmissionRecord>;
}
