// A transport file joins the units loaded so far (src/core/ceremony/session.ts checkJoinsUnits): the one
// check the initial ceremony and the recovery share before a unit is confirmed.
import { describe, expect, it } from 'vitest';
import type { TransportKey } from '../../../src/core/bundle/transport.js';
import { checkJoinsUnits } from '../../../src/core/ceremony/session.js';

const unit = (instanceId: string, unitId: string): TransportKey =>
  ({ file: { instanceId, unitId } }) as unknown as TransportKey;

describe('checkJoinsUnits', () => {
  it('takes the first unit, and another unit of the same instance', () => {
    expect(() => checkJoinsUnits([], unit('i1', 'u1'), 'u1.json')).not.toThrow();
    expect(() => checkJoinsUnits([{ transport: unit('i1', 'u1') }], unit('i1', 'u2'), 'u2.json')).not.toThrow();
  });

  it('refuses a unit of another service instance, naming both, and a unit loaded twice', () => {
    const loaded = [{ transport: unit('i1', 'u1') }];
    expect(() => checkJoinsUnits(loaded, unit('i2', 'u9'), 'u9.json')).toThrow(
      'u9.json belongs to another service instance (i2) than the units already loaded (i1).',
    );
    expect(() => checkJoinsUnits(loaded, unit('i1', 'u1'), 'copy.json')).toThrow('Unit u1 is already loaded.');
  });
});
