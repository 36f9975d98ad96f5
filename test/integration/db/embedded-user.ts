/**
 * A separate process using the embedded server, for embedded.test.ts: acquires the server of
 * argv[2], prints {"port":N}, then releases when a line "release" arrives on stdin (or never, to be
 * killed with SIGKILL like a crashed CLI).
 */
import readline from 'node:readline';
import { acquireEmbeddedServer } from '../../../src/db/embedded/index.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: embedded-user.ts <dir>');
const server = await acquireEmbeddedServer({ dir, settings: { fsync: 'off' } });
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line.trim() === 'release') {
    await server.release();
    process.stdout.write('released\n');
    break;
  }
}
