import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { formatDuration, parseTtl } from '../../../src/access/duration.ts';
import { isTransactionControl, splitSql } from '../../../src/access/tenant-sql.ts';
import { scramVerifier } from '../../../src/access/scram.ts';
import { FleetError } from '../../../src/errors.ts';

describe('parseTtl', () => {
  test.each([
    ['1m', 60_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['45m30s', 2_730_000],
    ['8h', 28_800_000],
    ['480m', 28_800_000],
  ])('%s', (text, ms) => {
    expect(parseTtl(text)).toBe(ms);
  });

  test.each(['8h1s', '9h', '481m', '0m', '59s', '', 'h', '2 hours', '1d', '-1h', '1.5h', '30m2h'])('refuses %j', (text) => {
    expect(() => parseTtl(text)).toThrow(FleetError);
  });

  test('formatDuration', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(8 * 3_600_000)).toBe('8h');
    expect(formatDuration(61_000)).toBe('1m1s');
  });
});

describe('fleet sql statements', () => {
  test('splits on semicolons outside quotes, drops blanks', () => {
    expect(splitSql(`SELECT ';'; -- x\n SELECT $$a;b$$ ;;`)).toEqual([`SELECT ';'`, `SELECT $$a;b$$`]);
  });

  test.each([
    'BEGIN',
    'begin isolation level serializable',
    'START TRANSACTION',
    'COMMIT',
    'commit and chain',
    'END',
    'ABORT',
    'ROLLBACK',
    '(COMMIT',
    "PREPARE TRANSACTION 'x'",
  ])('transaction control: %s', (s) => {
    expect(isTransactionControl(s)).toBe(true);
  });

  test.each(['SELECT 1', 'ROLLBACK TO SAVEPOINT a', 'SAVEPOINT a', 'RELEASE SAVEPOINT a', 'SELECT begin FROM t', 'ending', 'commits'])(
    'not transaction control: %s',
    (s) => {
      expect(isTransactionControl(s)).toBe(false);
    },
  );
});

describe('scramVerifier', () => {
  test('has the form PostgreSQL stores, with a fresh salt each time', () => {
    const a = scramVerifier('correct-horse');
    expect(a).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
    expect(scramVerifier('correct-horse')).not.toBe(a);
  });

  test('RFC 7677 known answer: the ServerKey signs the example exchange to its ServerSignature', () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const verifier = scramVerifier('pencil', { salt });
    const serverKey = Buffer.from(verifier.split(':').at(-1) as string, 'base64');
    const nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${nonce}`;
    expect(createHmac('sha256', serverKey).update(authMessage).digest('base64')).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    expect(scramVerifier('pencil', { salt })).not.toBe(scramVerifier('pencil2', { salt }));
  });

  test('refuses passwords that would need SASLprep', () => {
    expect(() => scramVerifier('pässword')).toThrow();
    expect(() => scramVerifier('with space')).toThrow();
  });
});
