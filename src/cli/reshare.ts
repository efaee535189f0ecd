// keyceremony mk reshare (issue 11, ceremony 2): the same key, a new set of
// shares, the old set retired in the same record.
import { reshareMasterKey } from '../core/ceremony/reshare.js';
import { integer, out, parse, required } from './common.js';
import { printIssuedShares, shareDestinations, shareSources } from './shares.js';

export async function mkReshare(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    record: { type: 'string' },
    share: { type: 'string', multiple: true },
    threshold: { type: 'string' },
    'new-share': { type: 'string', multiple: true },
    'ceremony-name': { type: 'string' },
    actor: { type: 'string' },
  });
  const recordPath = required(values.record, '--record');
  const specs = required(values.share, '--share');
  const threshold = integer(values.threshold, '--threshold');
  const newSpecs = required(values['new-share'], '--new-share');
  const actor = values.actor === undefined ? undefined : required(values.actor, '--actor');
  const sources = await shareSources(specs, recordPath);
  const custodians = await shareDestinations(newSpecs, '--new-share');
  const r = await reshareMasterKey({
    recordPath,
    sources,
    threshold,
    custodians,
    ...(values['ceremony-name'] !== undefined ? { ceremonyName: values['ceremony-name'] } : {}),
    ...(actor !== undefined ? { actor } : {}),
  });
  if (r.closedStopped) {
    out(
      `The re-share opened at line ${r.closedStopped.line} was stopped before it ended; it is now closed as aborted and its shares are void${r.closedStopped.written.length > 0 ? ` (destroy ${r.closedStopped.written.join(', ')}, and any other share it wrote)` : ' (destroy any share it wrote)'}.`,
    );
  }
  out(
    `Re-share ${r.ceremonyId}: key "${r.keyName}" rebuilt from shares ${r.sharesUsed.join(', ')} and checked against the record; ${threshold} of ${custodians.length} new shares`,
  );
  printIssuedShares(custodians, r.shares);
  out(
    `Retired: the ${r.retired.shares} shares (${r.retired.threshold} of ${r.retired.shares}) of ceremony ${r.retired.ceremonyId}; every later ceremony refuses them. Clear the old cards and destroy the old share files.`,
  );
  out(`Record ${recordPath}`);
  out(`KCV ${r.kcv}`);
}
