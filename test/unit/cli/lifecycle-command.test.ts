import { describe, expect, test } from 'vitest';
import { DEFAULT_KEY_URL } from '../../../scripts/commands/lifecycle.ts';
import { ATLASSIAN_INSTALL_KEYS_URL } from '../../../src/requests/index.ts';

describe('fleet lifecycle receive', () => {
  test('its help names the key service the command fetches from by default', () => {
    expect(DEFAULT_KEY_URL).toBe(ATLASSIAN_INSTALL_KEYS_URL);
  });
});
