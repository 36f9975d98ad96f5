/** Small file and timing helpers the embedded server's modules share. */
import fs from 'node:fs/promises';

/** Resolve after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Milliseconds since the file was last modified; 0 when it is gone. */
export async function ageMs(file: string): Promise<number> {
  try {
    return Date.now() - (await fs.stat(file)).mtimeMs;
  } catch {
    return 0;
  }
}

/** The file's size in bytes; 0 when it is missing. */
export async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

/** The file's text from byte `offset` on (what a server wrote to its log since then); '' when unreadable. */
export async function readFrom(file: string, offset: number): Promise<string> {
  try {
    return (await fs.readFile(file)).subarray(offset).toString('utf8').trim();
  } catch {
    return '';
  }
}

/** The last lines of a log, enough to show the cause in an error message. */
export function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}
