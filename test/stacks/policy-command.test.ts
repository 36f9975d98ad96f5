import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { POLICY_EXIT, registerPolicyCommand, runPolicy } from '../../scripts/commands/policy.ts';
import type { Output } from '../../scripts/cli/output.ts';
import { cleanTempDirs, copyOf, readStack, synthFleet, tempDir, writeStack } from './fixtures.ts';

/** An Output that records instead of printing. */
function recorder(json: boolean): Output & { lines: string[]; errors: string[]; documents: unknown[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  const documents: unknown[] = [];
  const plain = (text: string) => text;
  return {
    json,
    tty: false,
    lines,
    errors,
    documents,
    line: (text = '') => void lines.push(...text.split('\n')),
    error: (text) => void errors.push(text),
    printJson: (value) => void documents.push(value),
    bold: plain,
    red: plain,
    green: plain,
    yellow: plain,
    dim: plain,
  };
}

let outdir: string;
let publicDir: string;

beforeAll(() => {
  outdir = synthFleet();
  publicDir = copyOf(outdir);
  const eu = readStack(publicDir, 'data-eu');
  for (const db of Object.values(eu.resource.aws_db_instance!)) db.publicly_accessible = true;
  writeStack(publicDir, 'data-eu', eu);
});
afterAll(cleanTempDirs);
afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

describe('runPolicy', () => {
  it('prints a table and a summary and returns 0 when all is compliant', () => {
    const out = recorder(false);
    expect(runPolicy(outdir, {}, out)).toBe(POLICY_EXIT.ok);
    expect(out.lines[0]).toMatch(/^RULE\s+RESOURCE\s+RESULT\s+WHY$/);
    expect(out.lines.some((l) => /rds-not-public \(RDS\.2\)\s+data-eu: aws_db_instance\.\S+\s+compliant\s+publicly_accessible is false/.test(l))).toBe(true);
    expect(out.lines.some((l) => l.includes('not_applicable'))).toBe(false);
    expect(out.lines.at(-1)).toMatch(/^all compliant: \d+ compliant, 0 non-compliant, \d+ not applicable across 4 stacks/);
  });

  it('lists not-applicable rows with --all', () => {
    const out = recorder(false);
    runPolicy(outdir, { all: true }, out);
    expect(out.lines.some((l) => l.includes('not_applicable'))).toBe(true);
  });

  it('returns 1 and names the offender when a resource is non-compliant', () => {
    const out = recorder(false);
    expect(runPolicy(publicDir, {}, out)).toBe(POLICY_EXIT.nonCompliant);
    expect(out.lines.some((l) => /rds-not-public.*data-eu.*non_compliant\s+publicly_accessible is true/.test(l))).toBe(true);
    expect(out.lines.at(-1)).toMatch(/^1 non-compliant/);
  });

  it('prints one JSON document with --json', () => {
    const out = recorder(true);
    expect(runPolicy(publicDir, { json: true }, out)).toBe(POLICY_EXIT.nonCompliant);
    expect(out.lines).toEqual([]);
    const [doc] = out.documents as Array<{ ok: boolean; stacks: string[]; summary: Record<string, number>; findings: Array<Record<string, string>> }>;
    expect(doc).toMatchObject({ ok: false, stacks: ['access', 'data-au', 'data-eu', 'data-us'], summary: { non_compliant: 1 } });
    expect(doc!.findings.find((f) => f.status === 'non_compliant')).toMatchObject({ rule: 'rds-not-public', control: 'RDS.2', stack: 'data-eu' });
  });

  it('returns 2 when the directory holds no synthesized stacks', () => {
    const out = recorder(true);
    expect(runPolicy(tempDir(), { json: true }, out)).toBe(POLICY_EXIT.nothingToCheck);
    expect(out.errors[0]).toMatch(/no synthesized stacks under .*npm run synth/);
    expect(out.documents[0]).toMatchObject({ ok: false, error: { code: 'NO_STACKS' } });
    expect(runPolicy('/nonexistent/cdktf.out', {}, recorder(false))).toBe(POLICY_EXIT.nothingToCheck);
  });

  it('returns 2, naming the problem, when a synthesized stack is not valid JSON', () => {
    const broken = copyOf(outdir);
    writeFileSync(path.join(broken, 'stacks', 'data-eu', 'cdk.tf.json'), '{"resource": ');
    const out = recorder(false);
    expect(runPolicy(broken, {}, out)).toBe(POLICY_EXIT.nothingToCheck);
    expect(out.errors[0]).toMatch(/cannot read the synthesized stacks under .*JSON/);
  });
});

describe('fleet policy', () => {
  const program = () => {
    const p = new Command('fleet').exitOverride();
    registerPolicyCommand(p);
    for (const sub of p.commands) sub.exitOverride();
    return p;
  };
  const capture = () => {
    const chunks: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      chunks.push(String(chunk));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    return chunks;
  };

  it('checks DIR and sets the exit code, without exiting', async () => {
    const stdout = capture();
    await program().parseAsync(['policy', publicDir, '--json'], { from: 'user' });
    expect(process.exitCode).toBe(1);
    expect(JSON.parse(stdout.join(''))).toMatchObject({ ok: false, dir: publicDir });
  });

  it('defaults DIR to cdktf.out in the working directory', async () => {
    const cwd = process.cwd();
    const empty = tempDir();
    const project = tempDir();
    cpSync(outdir, path.join(project, 'cdktf.out'), { recursive: true });
    const stdout = capture();
    try {
      process.chdir(empty);
      await program().parseAsync(['policy', '--json'], { from: 'user' });
      expect(process.exitCode).toBe(2);
      expect(JSON.parse(stdout.at(-1)!)).toMatchObject({ dir: 'cdktf.out', stacks: [] });
      process.chdir(project);
      await program().parseAsync(['policy', '--json'], { from: 'user' });
      expect(process.exitCode).toBe(0);
      expect(JSON.parse(stdout.at(-1)!)).toMatchObject({ ok: true, dir: 'cdktf.out' });
    } finally {
      process.chdir(cwd);
    }
  });

  it('shows an example in --help', async () => {
    let help = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      help += String(chunk);
      return true;
    });
    await expect(program().parseAsync(['policy', '--help'], { from: 'user' })).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
    expect(help).toContain('Usage: fleet policy [options] [dir]');
    expect(help).toMatch(/Examples:\n\s+\$ npm run synth && npx fleet policy/);
    expect(help).toContain('Exit codes: 0 all compliant, 1 any resource non-compliant, 2 no synthesized stacks');
  });
});
