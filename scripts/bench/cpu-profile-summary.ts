/**
 * What a CPU profile of the requests bench's servers (REQUESTS_BENCH_PROFILE=<dir>) says, in
 * figures BENCHMARKS.md quotes: per window of the run, how busy the process was and what share went
 * to socket writes (`writeBuffer`, `writev`), crypto and pg; then the functions with the most self
 * time over the whole profile. Not part of npm run bench.
 *
 *   node --import tsx scripts/bench/cpu-profile-summary.ts <file.cpuprofile> [--window 3]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ options: { window: { type: 'string', default: '3' } }, allowPositionals: true });
const file = positionals[0];
const windowSeconds = Number(values.window);
if (!file || !(windowSeconds > 0)) {
  console.error('usage: cpu-profile-summary.ts <file.cpuprofile> [--window seconds]');
  process.exit(2);
}

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const windowMicros = windowSeconds * 1e6;
const windows = new Map<number, { busy: number; write: number; crypto: number; pg: number }>();
const self = new Map<string, number>();
let at = 0;
let total = 0;
profile.samples.forEach((id, i) => {
  const micros = profile.timeDeltas[i] ?? 0;
  at += micros;
  total += micros;
  const { functionName, url, lineNumber } = (nodes.get(id) as ProfileNode).callFrame;
  const w = Math.floor(at / windowMicros);
  const figures = windows.get(w) ?? { busy: 0, write: 0, crypto: 0, pg: 0 };
  if (functionName !== '(idle)') figures.busy += micros;
  if (functionName === 'writeBuffer' || functionName === 'writev') figures.write += micros;
  if (/jose|crypto/.test(url)) figures.crypto += micros;
  if (/node_modules\/pg/.test(url)) figures.pg += micros;
  windows.set(w, figures);
  const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + micros);
});

const share = (micros: number) => `${((100 * micros) / windowMicros).toFixed(0)}%`;
console.log(`| from | busy | socket writes | crypto | pg |\n|---:|---:|---:|---:|---:|`);
for (const [w, f] of [...windows].sort((a, b) => a[0] - b[0]))
  console.log(`| ${w * windowSeconds} s | ${share(f.busy)} | ${share(f.write)} | ${share(f.crypto)} | ${share(f.pg)} |`);
console.log(`\nSelf time, whole profile (${(total / 1e6).toFixed(1)} s):`);
for (const [key, micros] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20))
  console.log(`${((100 * micros) / total).toFixed(1)}% ${key}`);
