import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';
import type { RunEvent } from '../../src/index.ts';

/** How a command talks: JSON for pipelines, text for people; colour and a bar only on a terminal. */
export interface Output {
  readonly json: boolean;
  readonly tty: boolean;
  line(text?: string): void;
  error(text: string): void;
  printJson(value: unknown): void;
  bold(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
}

export function createOutput(json: boolean): Output {
  const tty = Boolean(process.stderr.isTTY) && !json && !process.env.NO_COLOR;
  const paint = (code: string) => (text: string) => (tty ? `\u001b[${code}m${text}\u001b[0m` : text);
  return {
    json,
    tty,
    // Under --json stdout carries only the JSON document: any human line goes to stderr instead.
    line: (text = '') => (json ? process.stderr : process.stdout).write(`${text}\n`),
    error: (text) => process.stderr.write(`${text}\n`),
    printJson: (value) => process.stdout.write(`${JSON.stringify(value)}\n`),
    bold: paint('1'),
    red: paint('31'),
    green: paint('32'),
    yellow: paint('33'),
    dim: paint('2'),
  };
}

/** How often a run off a terminal prints its heartbeat; FLEET_HEARTBEAT_MS overrides it (tests). */
export const HEARTBEAT_MS = 10_000;

function heartbeatMs(): number {
  const raw = Number(process.env.FLEET_HEARTBEAT_MS);
  return Number.isInteger(raw) && raw > 0 ? raw : HEARTBEAT_MS;
}

/**
 * Off a terminal (a CI log, cron), a line on stderr at a steady interval: progress and rate, so a
 * long run shows life and a stuck one shows where it stands. Never on stdout (it may carry JSON).
 */
export function heartbeatFor(
  label: string,
  intervalMs = heartbeatMs(),
  write: (line: string) => void = (line) => process.stderr.write(line),
): { onEvent: (event: RunEvent) => void; stop: () => void } {
  let total = 0;
  let done = 0;
  let failed = 0;
  let timer: NodeJS.Timeout | undefined;
  const started = performance.now();
  const beat = () => {
    const seconds = (performance.now() - started) / 1000;
    write(
      `fleet ${label}: ${done}/${total} tenants, ${failed} failed, ${(done / Math.max(seconds, 0.001)).toFixed(1)} tenants/s, ${Math.round(seconds)} s elapsed\n`,
    );
  };
  return {
    onEvent(event) {
      if (event.type === 'start') {
        total = done + event.tenants;
        if (!timer) {
          timer = setInterval(beat, intervalMs);
          timer.unref();
        }
      } else if (event.type === 'tenant') {
        done += 1;
        if (event.result.status === 'failed') failed += 1;
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

/**
 * A progress bar on stderr for a terminal; off a terminal, the heartbeat on stderr. Returns the
 * event handler and a stop function.
 */
export function progressFor(out: Output, label: string): { onEvent: (event: RunEvent) => void; stop: () => void } {
  if (!process.stderr.isTTY) return heartbeatFor(label);
  if (!out.tty) return { onEvent: () => undefined, stop: () => undefined };
  // Loaded only for a terminal: pipelines (and every command without a bar) start without it.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof cliProgressModule;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} tenants | {phase} | failed {failed} | {duration_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let failed = 0;
  let done = 0;
  return {
    onEvent(event) {
      if (event.type === 'start') {
        if (!started) bar.start(event.tenants, 0, { phase: event.phase, failed });
        else bar.setTotal(done + event.tenants);
        started = true;
        bar.update({ phase: event.phase });
      } else if (event.type === 'tenant') {
        done += 1;
        if (event.result.status === 'failed') failed += 1;
        bar.update(done, { failed });
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
