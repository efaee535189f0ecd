// keyceremony units report (issue 11, ceremonies 4 and 5): what the units
// say happened to a record's key — rotated away, or zeroized — checked
// against the record and recorded in it (core: ceremony/lifecycle.ts).
import { missingCase } from '../core/errors.js';
import { keyEndWords, readUnitsStatus, reportUnits } from '../core/ceremony/lifecycle.js';
import { actorOption, out, parse, required } from './common.js';

export async function unitsReport(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    record: { type: 'string' },
    status: { type: 'string', multiple: true },
    'new-record': { type: 'string' },
    actor: { type: 'string' },
  });
  const recordPath = required(values.record, '--record');
  const statuses = required(values.status, '--status').map(readUnitsStatus);
  const r = reportUnits({
    recordPath,
    statuses,
    ...(values['new-record'] !== undefined ? { newRecordPath: values['new-record'] } : {}),
    ...actorOption(values.actor),
  });
  const s = r.summary;
  for (const i of r.end.instances) {
    out(
      i.neverLoaded
        ? `Instance ${i.instanceId} never held the key: its units never applied the bundle that was to load it (sequence ${i.bundleSequence}, payload SHA-256 ${i.bundleHash}):`
        : `Instance ${i.instanceId} (bundle sequence ${i.bundleSequence}, payload SHA-256 ${i.bundleHash}):`,
    );
    for (const u of i.units)
      out(
        `  unit ${u.unitId}  ${u.state.padEnd(15)} KCV ${u.currentKcv ?? '-'} (old ${u.oldKcv ?? '-'})  last sequence ${u.lastSequence}`,
      );
  }
  switch (r.end.kind) {
    case 'retired':
      out(
        `Key "${s.keyName}" (KCV ${s.kcv}) is retired: ${keyEndWords(r.end)}. Its shares are refused from now on; clear the old cards and destroy the old share files.`,
      );
      break;
    case 'destroyed':
      out(
        `Key "${s.keyName}" (KCV ${s.kcv}) is destroyed: ${keyEndWords(r.end)}. Its shares are refused from now on; destroy them.`,
      );
      break;
    default:
      missingCase(r.end);
  }
  out(`Recorded as entry ${r.entry.seq} (${r.entry.type}) of ${recordPath}.`);
}
