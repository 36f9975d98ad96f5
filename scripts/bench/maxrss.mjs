// Preloaded into a measured CLI process (node --import): on exit, write its peak resident set
// size in kB (process.resourceUsage().maxRSS) to $BENCH_MAXRSS_FILE, and its CPU time (user +
// system, ms) to $BENCH_CPU_FILE when set.
import { writeFileSync } from 'node:fs';
import process from 'node:process';

const file = process.env.BENCH_MAXRSS_FILE;
if (file) {
  process.on('exit', () => {
    writeFileSync(file, String(process.resourceUsage().maxRSS));
  });
}
const cpuFile = process.env.BENCH_CPU_FILE;
if (cpuFile) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(cpuFile, String((usage.userCPUTime + usage.systemCPUTime) / 1000));
  });
}
