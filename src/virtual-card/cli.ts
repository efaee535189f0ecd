#!/usr/bin/env node
/**
 * keyceremony-virtual-card --state FILE [--port 35963|35964] [--host 127.0.0.1]
 *
 * Inserts a virtual PIV card (a YubiKey 5 look-alike) into vsmartcard's vpcd
 * reader. The card state lives in FILE (created if missing) and is written
 * after every state-changing APDU.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { VirtualPivCard } from './card.js';
import { VPCD_DEFAULT_HOST, VPCD_DEFAULT_PORT, VpcdClient } from './vpcd.js';

const USAGE = 'usage: keyceremony-virtual-card --state FILE [--port 35963|35964] [--host 127.0.0.1]';

function die(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function main(): void {
  let values: { state?: string; port?: string; host?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        state: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    die(`${(e as Error).message.replace(/\.$/, '')}. ${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.state) die(`The --state FILE option is required. ${USAGE}`);
  const port = values.port === undefined ? VPCD_DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) die(`The port "${values.port}" is not a valid TCP port.`);
  const host = values.host ?? VPCD_DEFAULT_HOST;
  const stateFile = resolve(values.state);

  let card: VirtualPivCard;
  try {
    card = new VirtualPivCard({ stateFile });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    die(err.code ? `The state file ${stateFile} cannot be used (${err.code}).` : `${err.message.replace(/\.$/, '')}.`);
  }

  // KEYCEREMONY_VIRTUAL_CARD_PULL_BEFORE=INS:N (hex INS, decimal N): pull the
  // card out instead of answering the N-th APDU with that instruction, then
  // exit. A test hook for "card removed between two APDUs of a write".
  const pull = /^([0-9a-fA-F]{2}):(\d+)$/.exec(process.env.KEYCEREMONY_VIRTUAL_CARD_PULL_BEFORE ?? '');
  let pullCount = 0;
  const client = new VpcdClient({
    card,
    ...(pull
      ? {
          pullBefore: (apdu: Uint8Array) => apdu[1] === parseInt(pull[1]!, 16) && ++pullCount === Number(pull[2]),
          onPulled: () => {
            process.stdout.write('Virtual PIV card pulled out (test hook).\n');
            process.exit(0);
          },
        }
      : {}),
    host,
    port,
    onConnected: () =>
      process.stdout.write(
        `Virtual PIV card serial ${card.serial} inserted into vpcd at ${host}:${port} (state ${stateFile}).\n`,
      ),
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
    // KEYCEREMONY_VIRTUAL_CARD_TRACE=1 logs every exchange (hex) on stderr, for debugging middleware.
    ...(process.env.KEYCEREMONY_VIRTUAL_CARD_TRACE === '1'
      ? {
          onApdu: (c: Uint8Array, r: Uint8Array) =>
            process.stderr.write(`> ${Buffer.from(c).toString('hex')}\n< ${Buffer.from(r).toString('hex')}\n`),
        }
      : {}),
  });
  client.start();

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void client.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('uncaughtException', (e) => die(`The virtual card stopped because ${e.message.replace(/\.$/, '')}.`));
}

main();
