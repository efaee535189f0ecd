import { describe, expect, it } from 'vitest';
import { CEREMONY_ERROR_CODES, IPC_ONLY_ERROR_CODES } from '../../../src/shared/error-codes.js';
import { CARD_REMEDIES } from '../../../src/shared/card-remedies.js';
import { CLI_REMEDY } from '../../../src/cli/common.js';
import { explainError } from '../../../src/renderer/lib/errors.js';

// One closed list of error codes (issue 10, "Code health"): the renderer
// explains every one in words (the switch also fails to compile when a code
// is added without its explanation).

describe('explainError', () => {
  it.each([...CEREMONY_ERROR_CODES, ...IPC_ONLY_ERROR_CODES])('explains %s in plain words', (code) => {
    const e = explainError({ code, message: 'The core\u2019s own sentence.' });
    expect(e.summary).toMatch(/^[A-Z].*\.$/);
    expect(e.summary).not.toMatch(/did not succeed/);
  });

  it('a wrong PIN says how many tries are left', () => {
    expect(explainError({ code: 'WrongPin', message: 'x', details: { retriesLeft: 2 } }).summary).toBe(
      'Wrong PIN. 2 tries left.',
    );
  });

  // A card refusal names what to do (its remedy); the app says how in its own
  // panels and never sends a person to a command-line option it does not have.
  it.each(CARD_REMEDIES)('says how to %s in the app, without a CLI option', (remedy) => {
    const e = explainError({ code: 'CardDefaultCredentials', message: 'x', details: { remedy } });
    expect(e.next).toMatch(/^[A-Z].*\.$/);
    // Only what the app cannot do (protect an owner's own management key) names another tool.
    if (remedy !== 'prepare-with-management-key') expect(e.next).not.toMatch(/--/);
    expect(CLI_REMEDY[remedy]).toMatch(/--|keyceremony /);
  });

  it('a card whose owner changed its management key is not sent to "Prepare the card" in the app', () => {
    const e = explainError({
      code: 'ManagementKeyRejected',
      message: 'x',
      details: { remedy: 'prepare-with-management-key' },
    });
    expect(e.next).toMatch(/ykman piv access change-management-key --protect/);
    expect(e.next).not.toMatch(/in the panel/);
  });
});
