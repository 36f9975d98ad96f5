import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { registerPolicyCommand } from '../../scripts/commands/policy.ts';
import { POLICY_EXIT, runPolicy } from '../../scripts/commands/policy-run.ts';
import type { Output } from '../../scripts/cli/output.ts';
import { CONFIG_PATH, cleanTempDirs, copyOf, defaultFleet, readStack, synthFleet, tempDir, writeStack } from './fixtures.ts';

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
    expect(
      out.lines.some((l) => /rds-not-public \(RDS\.2\)\s+data-eu: aws_db_instance\.\S+\s+compliant\s+publicly_accessible is false/.test(l)),
    ).toBe(true);
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
    const [doc] = out.documents as Array<{
      ok: boolean;
      stacks: string[];
      summary: Record<string, number>;
      findings: Array<Record<string, string>>;
    }>;
    expect(doc).toMatchObject({ ok: false, stacks: ['access', 'data-au', 'data-eu', 'data-us'], summary: { non_compliant: 1 } });
    expect(doc!.findings.find((f) => f.status === 'non_compliant')).toMatchObject({
      rule: 'rds-not-public',
      control: 'RDS.2',
      stack: 'data-eu',
    });
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

describe('runPolicy --failures', () => {
  it('lists only the non-compliant rows, still counting everything', () => {
    const out = recorder(false);
    expect(runPolicy(publicDir, { failures: true }, out)).toBe(POLICY_EXIT.nonCompliant);
    const rows = out.lines.slice(1, -2);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/rds-not-public.*data-eu.*non_compliant/);
    expect(out.lines.at(-1)).toMatch(/^1 non-compliant: \d+ compliant, 1 non-compliant/);
  });

  it('prints only the summary when nothing fails', () => {
    const out = recorder(false);
    expect(runPolicy(outdir, { failures: true }, out)).toBe(POLICY_EXIT.ok);
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatch(/^all compliant: /);
  });

  it('keeps only failing findings in the JSON', () => {
    const out = recorder(true);
    runPolicy(publicDir, { json: true, failures: true }, out);
    const [doc] = out.documents as Array<{ summary: Record<string, number>; findings: Array<Record<string, string>> }>;
    expect(doc!.findings.map((f) => [f.rule, f.status])).toEqual([['rds-not-public', 'non_compliant']]);
    expect(doc!.summary.compliant).toBeGreaterThan(0);
  });
});

describe('runPolicy against the current fleet description', () => {
  /** A copy of the committed description with `edit` applied, written to a temp file. */
  const description = (edit: (raw: Record<string, unknown>) => void = () => undefined, format = (raw: unknown) => JSON.stringify(raw)) => {
    const raw = JSON.parse(readFileSync(CONFIG_PATH, 'utf8')) as Record<string, unknown>;
    edit(raw);
    const file = path.join(tempDir('fleet-description-'), 'fleet.config.json');
    writeFileSync(file, format(raw));
    return { path: file };
  };

  it('checks stacks synthesized from the same description, however it is formatted', () => {
    const out = recorder(false);
    expect(
      runPolicy(
        outdir,
        {},
        out,
        description(
          () => undefined,
          (raw) => JSON.stringify(raw, null, 7),
        ),
      ),
    ).toBe(POLICY_EXIT.ok);
  });

  it('refuses, exit 2, stacks synthesized before the description changed, saying to synth', () => {
    const edited = description((raw) => void ((raw.backup as Record<string, unknown>).weeklyRetentionDays = 120));
    const out = recorder(true);
    expect(runPolicy(outdir, { json: true }, out, edited)).toBe(POLICY_EXIT.nothingToCheck);
    expect(out.errors[0]).toMatch(
      /synthesized from a fleet description \(.*fleet\.config\.json\) that differs from the current .*: run `npm run synth`, then `fleet policy` again/,
    );
    expect(out.documents[0]).toMatchObject({ ok: false, error: { code: 'STALE_STACKS' } });
  });

  it('says the description changed when it is the same file, edited', () => {
    const source = description();
    const dir = synthFleet(defaultFleet(), source.path);
    expect(runPolicy(dir, {}, recorder(false), source)).toBe(POLICY_EXIT.ok);
    const raw = JSON.parse(readFileSync(source.path, 'utf8')) as { lifecycle: { graceDays: number } };
    raw.lifecycle.graceDays = 60;
    writeFileSync(source.path, JSON.stringify(raw));
    const out = recorder(false);
    expect(runPolicy(dir, {}, out, source)).toBe(POLICY_EXIT.nothingToCheck);
    expect(out.errors[0]).toContain(
      `${source.path} has changed since the stacks in ${dir} were synthesized from it: run \`npm run synth\``,
    );
  });

  it('refuses stacks without a record of their description', () => {
    const unstamped = copyOf(outdir);
    rmSync(path.join(unstamped, 'fleet-description.json'));
    const out = recorder(false);
    expect(runPolicy(unstamped, {}, out)).toBe(POLICY_EXIT.nothingToCheck);
    expect(out.errors[0]).toMatch(/holds no record \(fleet-description\.json\).*run `npm run synth`/);
    expect(out.lines).toEqual([]);
  });

  it('refuses, naming the problem, when the description itself is invalid', () => {
    const out = recorder(true);
    expect(
      runPolicy(
        outdir,
        { json: true },
        out,
        description((raw) => void (raw.name = 'Not A Name')),
      ),
    ).toBe(POLICY_EXIT.nothingToCheck);
    expect(out.documents[0]).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID' } });
    expect(out.errors[0]).toMatch(/name: a fleet name is/);
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

  it('refuses --all with --failures', async () => {
    capture();
    await expect(program().parseAsync(['policy', outdir, '--all', '--failures'], { from: 'user' })).rejects.toMatchObject({
      code: 'commander.conflictingOption',
    });
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
