import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  END_MARKER,
  README_PATH,
  START_MARKER,
  expectedReadme,
  renderCliReference,
  replaceReference,
  runCliReference,
} from '../../../scripts/docs/cli-reference.ts';

describe('the CLI reference in README.md', () => {
  it('is what the commander definitions generate (run `node --import tsx scripts/docs/cli-reference.ts` when this fails)', () => {
    const readme = readFileSync(README_PATH, 'utf8');
    expect(readme).toContain(START_MARKER);
    expect(readme).toContain(END_MARKER);
    expect(readme).toBe(expectedReadme(readme));
  });
});

describe('renderCliReference', () => {
  function sample(): Command {
    const program = new Command('tool').description('a tool').option('--config <path>', 'where the config is');
    const group = program.command('items').description('manage items');
    group
      .command('add')
      .description('add items')
      .argument('<ids...>', 'item ids')
      .option('--region <name>', 'where | they go', 'eu')
      .option('--json', 'JSON output')
      .action(() => undefined);
    group.command('secret', { hidden: true }).action(() => undefined);
    program
      .command('status')
      .description('show the status')
      .action(() => undefined);
    return program;
  }

  it('lists every visible command and subcommand with usage, arguments, options and defaults', () => {
    const text = renderCliReference(sample());
    expect(text).toContain('| `--config <path>` | where the config is |');
    expect(text).toContain('### `tool items add`');
    expect(text).toContain('`tool items add [options] <ids...>`: add items');
    expect(text).toContain('| `<ids...>` | item ids |');
    expect(text).toContain('| `--region <name>` | where \\| they go (default: "eu") |');
    expect(text).toContain('### `tool status`');
    expect(text).toContain('Commands: `tool items add`.');
    expect(text).not.toContain('secret');
    expect(text).not.toContain('--help` |');
    expect(text.indexOf('`tool items add`')).toBeLessThan(text.indexOf('### `tool status`'));
  });

  it('is the same text every time', () => {
    expect(renderCliReference(sample())).toBe(renderCliReference(sample()));
  });

  it('notices a command added to the program', () => {
    const before = renderCliReference(sample());
    const program = sample();
    program
      .command('audit')
      .description('read the audit trail')
      .action(() => undefined);
    const after = renderCliReference(program);
    expect(after).not.toBe(before);
    const readme = replaceReference(`# T\n${START_MARKER}\n${END_MARKER}\n`, before);
    expect(replaceReference(readme, after)).not.toBe(readme);
    expect(replaceReference(readme, before)).toBe(readme);
  });

  it('refuses a README without the markers, naming them', () => {
    expect(() => replaceReference('# README\n', 'x')).toThrow(START_MARKER);
  });
});

describe('the generator command line', () => {
  function tempReadme(text: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'cli-reference-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'README.md');
    writeFileSync(file, text);
    return file;
  }
  const quiet = () => undefined;

  it('--check exits 1 on a stale reference and changes nothing; without it, rewrites; then --check exits 0', () => {
    const stale = `# T\n\n${START_MARKER}\nfleet frobnicate\n${END_MARKER}\n\nafter\n`;
    const file = tempReadme(stale);
    expect(runCliReference(['--check'], file, quiet, quiet)).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe(stale);
    expect(runCliReference([], file, quiet, quiet)).toBe(0);
    const written = readFileSync(file, 'utf8');
    expect(written).toContain('`fleet migrate [options]`');
    expect(written.endsWith(`${END_MARKER}\n\nafter\n`)).toBe(true);
    expect(runCliReference(['--check'], file, quiet, quiet)).toBe(0);
  });

  it('refuses an unknown argument with exit 2', () => {
    expect(runCliReference(['--chekc'], tempReadme(`${START_MARKER}\n${END_MARKER}\n`), quiet, quiet)).toBe(2);
  });
});
