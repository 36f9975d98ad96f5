import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { FleetError } from '../../src/index.ts';

/** Commander argument parsers: bad values are refused before anything runs (exit 2). */
export function positiveInt(name: string, max = 10_000) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > max)
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}`);
    return n;
  };
}

export function nonNegativeInt(name: string, max = 1_000_000) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n > max)
      throw new InvalidArgumentError(`${name} must be a whole number from 0 to ${max}, got ${JSON.stringify(value)}`);
    return n;
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function isoDate(name: string) {
  return (value: string): Date => {
    const d = new Date(value);
    if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime()))
      throw new InvalidArgumentError(`${name} must be an ISO date such as 2026-11-26T03:00:00Z, got ${JSON.stringify(value)}`);
    return d;
  };
}

/** One id per line; blank lines and # comments are ignored. */
export function readIdFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new FleetError('INPUT_INVALID', `cannot read --file ${file}: ${(error as Error).message}`);
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
