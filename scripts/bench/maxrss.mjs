// Preloaded into a measured CLI process (node --import): on exit, write its peak resident set
// size in kB (process.resourceUsage().maxRSS) to $BENCH_MAXRSS_FILE.
import { writeFileSync } from 'node:fs';
import process from 'node:process';

const file = process.env.BENCH_MAXRSS_FILE;
if (file) {
  process.on('exit', () => {
    writeFileSync(file, String(process.resourceUsage().maxRSS));
  });
}
