import { Option } from 'commander';
import { InvalidRequestError } from '../errors.js';

/** commander argument parsers that fail with a message naming the flag. */
export function integerOption(flag: string, min = 0): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidRequestError(flag, `'${value}' is not a whole number`);
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidRequestError(flag, `must be at least ${min}`);
    return n;
  };
}

/** A flag whose value must be one of `choices`. */
export function choiceOption<T extends string>(flag: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidRequestError(flag, `must be one of ${choices.join(', ')}`);
    return value as T;
  };
}

export function listOption(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

export function repeatable(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The number commander parsed for a flag of a table row (`--output-limit` → flags.outputLimit). */
export function numberFlag(flags: Record<string, unknown>, spec: string): number | undefined {
  const value = flags[new Option(spec).attributeName()];
  return typeof value === 'number' ? value : undefined;
}
