/**
 * hostile-card-cli --scenario NAME --state FILE --port PORT
 *
 * A card behind vsmartcard's vpcd that answers wrongly on purpose (issue 9,
 * "Never hang, never crash"): it wraps the virtual PIV card and, per
 * scenario, replaces the answer to one instruction with a hostile one. Every
 * other APDU goes to the virtual card, so the host gets far enough to meet
 * the hostile answer. Test support only; run with tsx like the virtual card
 * CLI (src/virtual-card/cli.ts), whose vpcd framing it repeats: a 2-byte
 * big-endian length, then the message; a 1-byte message is a control code.
 */
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { VirtualPivCard } from '../../src/virtual-card/card.js';

const VPCD_CTRL = { OFF: 0, ON: 1, RESET: 2, ATR: 4 } as const;

/** PIV and Yubico instructions the scenarios aim at (SP 800-73-4 Part 2 §3; Yubico PIV extensions). */
const INS = {
  SELECT: 0xa4,
  VERIFY: 0x20,
  GET_DATA: 0xcb,
  GET_RESPONSE: 0xc0,
  GET_SERIAL: 0xf8,
  GET_METADATA: 0xf7,
} as const;
const SW_OK = [0x90, 0x00];

/** The certificate object of slot 9C (SP 800-73-4 Part 1 Table 3), as GET DATA names it in its 5C tag list. */
const OBJECT_9C = '5c035fc10a';
/** The certificate object of retired slot 82, where a card's first share is stored (SP 800-73-4 Part 1 Table 3). */
const OBJECT_82 = '5c035fc10d';

/**
 * How long a silent card stays mute before it pulls itself out: far longer
 * than any test waits (the tests pull it first). The tool must give up at its
 * own deadline and end without waiting for the card (issue 9).
 */
const SILENT_THEN_PULLED_MS = 180_000;

type Answer = Uint8Array | 'silence' | undefined; // undefined: let the virtual card answer

/** What a scenario knows besides the APDU: the wrapped card's true serial, and --serial (the serial a liar claims). */
interface Context {
  serial: number;
  claimedSerial: number | undefined;
}

/** A GET SERIAL answer (Yubico: 4 bytes, big endian) for `serial`. */
function serialAnswer(serial: number): Uint8Array {
  const b = Buffer.alloc(6);
  b.writeUInt32BE(serial >>> 0, 0);
  b.set(SW_OK, 4);
  return Uint8Array.from(b);
}

/** A small seeded PRNG (mulberry32), so "random" status words are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

/** What each scenario answers instead of the card; the keys are the scenario names the tests use. */
export const SCENARIOS: Record<string, (apdu: Uint8Array, ctx: Context) => Answer> = {
  /** Answers nothing wrongly: the virtual card as it is (to write a real share before a hostile run). */
  honest: () => undefined,
  /** GET SERIAL answers --serial (by default the true serial + 1), not the card's serial. */
  'lying-serial': (a, ctx) => (a[1] === INS.GET_SERIAL ? serialAnswer(ctx.claimedSerial ?? ctx.serial + 1) : undefined),
  /** GET SERIAL answers the true serial the first time, then a different one every time after. */
  'changing-serial': (() => {
    let asked = 0;
    return (a: Uint8Array, ctx: Context): Answer =>
      a[1] === INS.GET_SERIAL ? serialAnswer(ctx.serial + asked++) : undefined;
  })(),
  /** Goes silent on the first APDU after a PIN was verified (VERIFY with a PIN in it). */
  'silent-after-pin': (() => {
    let verified = false;
    return (a: Uint8Array): Answer => {
      if (verified) return 'silence';
      if (a[1] === INS.VERIFY && a.length > 5) verified = true;
      return undefined;
    };
  })(),
  /** Slot 82's certificate object (the share) holds a 70 tag with bytes that are not DER. */
  'garbage-share-certificate': (a) =>
    a[1] === INS.GET_DATA && Buffer.from(a).toString('hex').includes(OBJECT_82)
      ? hex('530a7008ffffffff0badc0de' + '9000')
      : undefined,
  /** Never answers GET SERIAL. */
  'silent-serial': (a) => (a[1] === INS.GET_SERIAL ? 'silence' : undefined),
  /** GET SERIAL says "16 more bytes" (6110) forever and GET RESPONSE never sends them. */
  'get-response-forever': (a) => (a[1] === INS.GET_SERIAL || a[1] === INS.GET_RESPONSE ? hex('6110') : undefined),
  /** GET SERIAL answers "wrong length, use 4" (6C04) whatever Le it gets. */
  'wrong-le-loop': (a) => (a[1] === INS.GET_SERIAL ? hex('6c04') : undefined),
  /** GET SERIAL answers 9000 without a serial. */
  'empty-serial': (a) => (a[1] === INS.GET_SERIAL ? hex('9000') : undefined),
  /** GET SERIAL answers with 64 KB of data. */
  'huge-answer': (a) =>
    a[1] === INS.GET_SERIAL ? Uint8Array.from([...Buffer.alloc(65_000, 0x42), ...SW_OK]) : undefined,
  /** GET METADATA answers a TLV cut off in its value (06 02 03). */
  'truncated-tlv': (a) => (a[1] === INS.GET_METADATA ? hex('010104050100060203' + '9000') : undefined),
  /** GET DATA answers a 53 object claiming 65535 bytes and carrying 4. */
  'overlong-tlv': (a) => (a[1] === INS.GET_DATA ? hex('5382ffff010203049000') : undefined),
  /** GET METADATA of the PIN says 9 tries left of 3. */
  'lying-metadata': (a) => (a[1] === INS.GET_METADATA && a[3] === 0x80 ? hex('0101ff050100060203099000') : undefined),
  /** Every APDU after SELECT answers a random (seeded) status word that no command expects. */
  'random-status-words': (() => {
    const next = prng(9);
    return (a: Uint8Array): Answer => {
      if (a[1] === INS.SELECT) return undefined;
      let sw: number;
      do sw = Math.floor(next() * 0x10000);
      while (sw === 0x9000 || sw >> 8 === 0x61 || sw >> 8 === 0x6c || (sw & 0xfff0) === 0x63c0);
      return Uint8Array.of(sw >> 8, sw & 0xff);
    };
  })(),
  /** Slot 9C's certificate object holds a 70 tag with garbage instead of a certificate. */
  'unreadable-9c': (a) =>
    a[1] === INS.GET_DATA && Buffer.from(a).toString('hex').includes(OBJECT_9C)
      ? hex('5306700401020304' + '9000')
      : undefined,
};

function main(): void {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string' },
      state: { type: 'string' },
      port: { type: 'string' },
      serial: { type: 'string' },
    },
    strict: true,
  });
  const hostile = SCENARIOS[values.scenario ?? ''];
  if (!hostile || !values.state || !values.port) {
    process.stderr.write(
      `usage: hostile-card-cli --scenario ${Object.keys(SCENARIOS).join('|')} --state FILE --port PORT [--serial N]\n`,
    );
    process.exit(2);
  }
  const card = new VirtualPivCard({ stateFile: values.state });
  const ctx: Context = {
    serial: card.serial,
    claimedSerial: values.serial === undefined ? undefined : Number(values.serial),
  };
  const socket = connect({ host: '127.0.0.1', port: Number(values.port) });
  socket.setNoDelay(true);
  const send = (payload: Uint8Array): void => {
    const frame = Buffer.alloc(2 + payload.length);
    frame.writeUInt16BE(payload.length, 0);
    frame.set(payload, 2);
    socket.write(frame);
  };
  let buffer = Buffer.alloc(0);
  socket.on('connect', () =>
    process.stdout.write(
      `Hostile PIV card (${values.scenario}) serial ${card.serial} inserted into vpcd port ${values.port}.\n`,
    ),
  );
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
      const msg = new Uint8Array(buffer.subarray(2, 2 + buffer.readUInt16BE(0)));
      buffer = buffer.subarray(2 + msg.length);
      if (msg.length === 1) {
        if (msg[0] === VPCD_CTRL.ON || msg[0] === VPCD_CTRL.RESET) card.powerOn();
        else if (msg[0] === VPCD_CTRL.OFF) card.powerOff();
        else if (msg[0] === VPCD_CTRL.ATR) send(card.atr);
        continue;
      }
      const answer = hostile(msg, ctx);
      if (answer === 'silence') {
        // Mute, then pulled out: vpcd waits for a card's answer without a
        // timeout, so only a card that leaves lets the reader driver return.
        setTimeout(() => socket.destroy(), SILENT_THEN_PULLED_MS);
        continue;
      }
      if (!card.isPowered) card.powerOn();
      send(answer ?? card.transmit(msg));
    }
  });
  socket.on('error', (e) => {
    process.stderr.write(`hostile card: ${e.message}\n`);
    process.exit(1);
  });
  socket.on('close', () => process.exit(0));
  const stop = (): void => {
    socket.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && /hostile-card-cli\.ts$/.test(process.argv[1])) main();
