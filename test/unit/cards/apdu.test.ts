import { describe, expect, it } from 'vitest';
import { ApduChannel, atrOffersExtendedLength, statusError } from '../../../src/core/cards/apdu.js';
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

  it('reads extended length from the ATR: a YubiKey 5 offers it, a card without card capabilities does not', () => {
    expect(atrOffersExtendedLength(Buffer.from('3bfd1300008131fe158073c021c057597562694b657940', 'hex'))).toBe(true);
    expect(atrOffersExtendedLength(Buffer.from('3bfd1300008131fe158073c0218057597562694b657900', 'hex'))).toBe(false);
    expect(atrOffersExtendedLength(Buffer.from('3b8c80010102030405060708090a0b0c', 'hex'))).toBe(false);
    expect(atrOffersExtendedLength(new Uint8Array())).toBe(false);
    expect(atrOffersExtendedLength(Buffer.from('3bff', 'hex'))).toBe(false); // truncated
  });

  it('sends one extended APDU where the card offers it, and goes back to short APDUs after a 6700', async () => {
    const { conn, sent } = scripted(['9000', '6700', '9000', '9000', '9000']);
    const ext = { ...conn, atr: Buffer.from('3bfd1300008131fe158073c021c057597562694b657940', 'hex') };
    const ch = new ApduChannel(ext);
    const data = Buffer.alloc(600, 1);
    await ch.send({ ins: 0xdb, p1: 0x3f, p2: 0xff, data, extendedLength: true }, 'x');
    expect(sent[0]!.slice(0, 14)).toBe('00db3fff000258');
    expect(sent[0]!.length).toBe(2 * (7 + 600));
    await ch.send({ ins: 0xdb, p1: 0x3f, p2: 0xff, data, extendedLength: true }, 'x');
    expect(ch.extendedLength).toBe(false);
    expect(sent.slice(2).map((s) => s.slice(0, 10))).toEqual(['10db3fffff', '10db3fffff', '00db3fff5a']);
  });

  it('takes an answer over 256 bytes only to an extended command', async () => {
    const long = `${'ab'.repeat(300)}9000`;
    const yk = Buffer.from('3bfd1300008131fe158073c021c057597562694b657940', 'hex');
    const a = scripted([long]);
    const got = await new ApduChannel({ ...a.conn, atr: yk }).send(
      { ins: 0xcb, p1: 0x3f, p2: 0xff, le: 0, extendedLength: true },
      'x',
    );
    expect(got.length).toBe(300);
    expect(a.sent).toEqual(['00cb3fff000000']);
    const b = scripted([long]);
    await expect(new ApduChannel({ ...b.conn, atr: yk }).send({ ins: 0xfd, p1: 0, p2: 0, le: 0 }, 'x')).rejects.toThrow(
      /300 bytes of data to a short command/,
    );
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
