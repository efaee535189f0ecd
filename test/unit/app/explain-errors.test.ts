import { describe, expect, it } from 'vitest';
import { CEREMONY_ERROR_CODES, IPC_ONLY_ERROR_CODES } from '../../../src/shared/error-codes.js';
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
});
