// A rehearsal's stand-ins for real hardware (issue 11, "Rehearsal mode"):
// in-process virtual cards in a few virtual readers, and an in-process
// crypto-unit emulator instance in rehearsal mode. The session reaches them
// through RehearsalPorts only (src/core/ceremony/session-ports.ts), so no real
// card or unit is touched in a rehearsal. Electron's main (index.ts) and the
// test bridge (test/e2e/bridge) pass the same implementation.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CardTransport } from '../core/cards/transport.js';
import type { RehearsalPorts, RehearsalUnitsCreated } from '../core/ceremony/session.js';
import { exportTransportFiles, ingestBundle, initInstance, instanceStatus } from '../emulator/instance.js';
import { VirtualPivCard } from '../virtual-card/card.js';
import { InProcessTransport } from '../virtual-card/transport.js';

/** The virtual readers a rehearsal offers, each holding a factory-fresh virtual card. */
export const REHEARSAL_READERS = ['Rehearsal card reader 1', 'Rehearsal card reader 2', 'Rehearsal card reader 3'];

/** Units of a rehearsal instance: two, as the smallest instance the emulator makes. */
const REHEARSAL_UNITS = 2;

/**
 * The virtual card transport of a rehearsal: every reader holds a fresh,
 * unprepared virtual PIV card (factory PIN 123456, PUK 12345678, default
 * management key), so the rehearsal shows card preparation too.
 */
export function rehearsalCardTransport(readers: readonly string[] = REHEARSAL_READERS): InProcessTransport {
  const transport = new InProcessTransport([...readers]);
  for (const reader of readers) transport.insert(reader, new VirtualPivCard());
  return transport;
}

export function rehearsalPorts(): RehearsalPorts {
  let cards: Promise<CardTransport> | undefined;
  return {
    openCardTransport: () => (cards ??= Promise.resolve(rehearsalCardTransport())),
    async createUnits(dir) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      initInstance(dir, REHEARSAL_UNITS, { rehearsal: true });
      return unitsOf(dir, join(dir, 'transport'));
    },
    // A later ceremony's copy of the transport files: a folder of its own, never over the earlier ones.
    openUnits: async (dir) => unitsOf(dir, join(dir, `transport-${randomUUID().slice(0, 8)}`)),
    unitsStatus: async (dir) => Buffer.from(JSON.stringify(instanceStatus(dir), null, 2) + '\n', 'utf8'),
    async ingestBundle(dir, bundleText) {
      const results = ingestBundle(dir, bundleText).map((r) => ({ unitId: r.unitId, ok: r.ok, message: r.message }));
      const status = instanceStatus(dir);
      return {
        results,
        units: status.units.map((u) => ({
          unitId: u.id,
          state: u.state,
          kcv: u.masterKeyKcv,
          rehearsal: status.rehearsal,
        })),
      };
    },
  };
}

/** The transport files of the instance in `dir`, written into `files`, and what each unit "displays". */
function unitsOf(dir: string, files: string): RehearsalUnitsCreated {
  mkdirSync(files, { recursive: true, mode: 0o700 });
  return {
    instanceId: instanceStatus(dir).instanceId,
    // The fingerprint the emulator holds for each unit's transport key: what its display would show.
    units: exportTransportFiles(dir, files).map((f) => ({
      unitId: f.unitId,
      transportFile: f.path,
      displayed: f.fingerprint,
    })),
  };
}
