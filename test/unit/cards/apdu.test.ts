import { describe, expect, it } from 'vitest';
import { ApduChannel, statusError } from '../../../src/core/cards/apdu.js';
import type { CardConnection } from '../../../src/core/cards/transport.js';

/** A scripted card: answers each APDU from a list and records what it was sent (ISO/IEC 7816-4 protocol checks). */
function scripted(answers: string[]): { conn: CardConnection; sent: string[] } {
  const sent: string[] = [];
  const conn: CardConnection = {
    reader: 'script',
    atr: new Uint8Array(),
    async transmit(apdu) {
      sent.push(Buffer.from(apdu).toString('hex'));
      const a = answers.shift();
      if (a === undefined) throw new Error('script exhausted');
      return Buffer.from(a, 'hex');
    },
    async disconnect() {},
  };
  return { conn, sent };
}

describe('APDU channel', () => {
  it('chains data over 255 bytes with CLA 10 on all blocks but the last', async () => {
    const { conn, sent } = scripted(['9000', '9000', '9000']);
    await new ApduChannel(conn).send({ ins: 0xdb, p1: 0x3f, p2: 0xff, data: Buffer.alloc(600, 1) }, 'x');
    expect(sent.map((s) => s.slice(0, 10))).toEqual(['10db3fffff', '10db3fffff', '00db3fff5a']);
  });

  it('stops a chain at the first block the card refuses', async () => {
    const { conn, sent } = scripted(['6a84']);
    await expect(
      new ApduChannel(conn).send({ ins: 0xdb, p1: 0x3f, p2: 0xff, data: Buffer.alloc(600, 1) }, 'Writing'),
    ).rejects.toThrow(/answered 6A84/);
    expect(sent).toHaveLength(1);
  });

  it('collects 61xx with GET RESPONSE', async () => {
    const { conn, sent } = scripted(['aaaa6102', 'bbbb6101', 'cc9000']);
    const data = await new ApduChannel(conn).send({ ins: 0xcb, p1: 0x3f, p2: 0xff, le: 0 }, 'x');
    expect(data.toString('hex')).toBe('aaaabbbbcc');
    expect(sent.slice(1)).toEqual(['00c0000002', '00c0000001']);
  });

  it('resends with the right Le after 6Cxx', async () => {
    const { conn, sent } = scripted(['6c05', '01020304059000']);
    const data = await new ApduChannel(conn).send({ ins: 0xfd, p1: 0, p2: 0, le: 0 }, 'x');
    expect(data.toString('hex')).toBe('0102030405');
    expect(sent).toEqual(['00fd000000', '00fd000005']);
  });

  it.each([
    [0x63c2, 'WrongPin', /wrong PIN, 2 tries left/],
    [0x6983, 'PinBlocked', /blocked/],
    [0x6982, 'SecurityStatusNotSatisfied', /PIN or management key first/],
    [0x6a82, 'CardObjectNotFound', /not found/],
    [0x6a80, 'CardError', /answered 6A80/],
    [0x6d00, 'CardError', /does not know the command \(6D00\).*YubiKey extensions/],
  ])('maps status word %s to %s', (sw, code, msg) => {
    const e = statusError(sw, 'Doing it');
    expect(e.code).toBe(code);
    expect(e.message).toMatch(msg);
  });
});
