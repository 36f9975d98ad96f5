import { mkdtempSync, readFileSync, cpSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadFleetConfig, parseFleetConfig, PACKAGE_ROOT } from '../../src/config/load.ts';
import type { FleetConfig } from '../../src/config/schema.ts';
import { synthFleetApp } from '../../stacks/app.ts';
import type { SynthesizedStack } from '../../stacks/policy/stack-view.ts';

/** Helpers shared by the stack tests: the committed fleet description, synth into a temp dir. */

export const CONFIG_PATH = path.join(PACKAGE_ROOT, 'fleet.config.json');

export function defaultFleet(): FleetConfig {
  return loadFleetConfig(CONFIG_PATH);
}

/** The committed description with `edit` applied to its raw JSON, validated like any other. */
export function fleetWith(edit: (raw: Record<string, unknown> & { regions: Array<Record<string, unknown>> }) => void): FleetConfig {
  const raw = JSON.parse(readFileSync(CONFIG_PATH, 'utf8'));
  edit(raw);
  return parseFleetConfig(raw);
}

const dirs: string[] = [];

export function tempDir(prefix = 'fleet-stacks-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function cleanTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** What `npm run synth` does (stacks and description stamp), into a fresh directory; returns the directory. */
export function synthFleet(fleet: FleetConfig = defaultFleet(), source = CONFIG_PATH): string {
  const outdir = tempDir();
  synthFleetApp(fleet, source, { outdir });
  return outdir;
}

export type StackJson = SynthesizedStack & {
  resource: Record<string, Record<string, Record<string, unknown>>>;
  provider: Record<string, Array<Record<string, unknown>>>;
  output: Record<string, { value: unknown }>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  terraform: { backend: Record<string, Record<string, unknown>> } & Record<string, unknown>;
};

export function readStack(outdir: string, stack: string): StackJson {
  return JSON.parse(readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8')) as StackJson;
}

export function writeStack(outdir: string, stack: string, json: unknown): void {
  writeFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), JSON.stringify(json, null, 2));
}

/** A copy of a synth directory, to mutate without touching the original. */
export function copyOf(outdir: string): string {
  const copy = tempDir('fleet-stacks-mutated-');
  cpSync(outdir, copy, { recursive: true });
  return copy;
}

/** The resources of one type, by name, attributes without cdktf's `//` metadata. */
export function resources(json: StackJson, type: string): Array<[string, Record<string, unknown>]> {
  return Object.entries(json.resource[type] ?? {}).map(([name, values]) => {
    const { '//': _metadata, ...rest } = values;
    return [name, rest];
  });
}

/** The single resource of a type; fails when there are none or several. */
export function only(json: StackJson, type: string): [string, Record<string, unknown>] {
  const all = resources(json, type);
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0]!;
}

/** `${type.name.attr}`, the way cdktf renders a reference. */
export function ref(type: string, name: string, attribute: string): string {
  return `\${${type}.${name}.${attribute}}`;
}

export interface TestStatement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Principal?: Record<string, unknown>;
  readonly Action: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export function parseJsonPolicy(text: unknown): { Statement: TestStatement[] } {
  return JSON.parse(String(text)) as { Statement: TestStatement[] };
}
