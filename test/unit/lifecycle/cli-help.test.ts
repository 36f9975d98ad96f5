import { describe, expect, test } from 'vitest';
import { Command } from 'commander';
import { registerTenantLifecycleCommands } from '../../../scripts/commands/tenants-lifecycle.ts';
import { registerPurgeCommand } from '../../../scripts/commands/purge.ts';
import { registerLifecycleCommand } from '../../../scripts/commands/lifecycle.ts';

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}

describe('lifecycle and purge commands', () => {
  const program = new Command('fleet');
  registerTenantLifecycleCommands(program.command('tenants'));
  registerPurgeCommand(program);
  registerLifecycleCommand(program);
  const find = (...path: string[]) => path.reduce<Command>((cmd, name) => cmd.commands.find((c) => c.name() === name) as Command, program);

  test.each([
    [['tenants', 'install']],
    [['tenants', 'uninstall']],
    [['tenants', 'sweep']],
    [['tenants', 'hold']],
    [['tenants', 'release']],
    [['purge']],
    [['purge', 'report']],
    [['lifecycle', 'receive']],
  ])('fleet %j has --help with an example and --json', (path) => {
    const help = helpOf(find(...path));
    expect(help).toMatch(/Examples?:/);
    expect(help).toMatch(/\$ fleet /);
    expect(help).toMatch(/--json/);
  });

  test('destructive commands are dry runs unless --execute', () => {
    expect(helpOf(find('purge'))).toMatch(/a\s+dry\s+run\s+unless\s+--execute/);
    expect(helpOf(find('tenants', 'sweep'))).toMatch(/a\s+dry\s+run\s+by\s+default/);
  });
});
