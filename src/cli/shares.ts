// Share specs of the keyceremony CLI, read once for every command that
// takes shares in (--share of share verify, bundle create, mk reshare) or
// issues them (--share of mk generate, --new-share of mk reshare).
import { FileShareDestination, FileShareSource, type ShareSource } from '../core/ceremony/media.js';
import { cardShareHintsOf, loadCeremony } from '../core/ceremony/operations.js';
import type { CustodianShare, IssuedShareResult } from '../core/ceremony/share-issue.js';
import { custodianFromPath } from '../core/shares/file-store.js';
import { out, passphraseProvider, splitSpec } from './common.js';
import { cardDestination, cardSource, parseCardSpec } from './cards.js';

/**
 * The shares to read: PATH=PASSFILE or piv:R=PINFILE, checked against the
 * record by the caller. Without a record (mk recover from the paper report)
 * a card's shares are found by looking through its slots.
 */
export async function shareSources(specs: string[], recordPath: string | undefined): Promise<ShareSource[]> {
  const anyCard = specs.some((s) => parseCardSpec(s));
  // A card may hold shares of several sets of the key (a re-share): the current one is read first.
  const hints = anyCard && recordPath !== undefined ? cardShareHintsOf(loadCeremony(recordPath).summary) : undefined;
  const sources: ShareSource[] = [];
  for (const spec of specs) {
    const card = parseCardSpec(spec);
    if (card) {
      sources.push(await cardSource(card.reader, card.pinFile, hints));
      continue;
    }
    const { target, secretFile } = splitSpec(spec, '--share');
    sources.push(
      new FileShareSource(target, passphraseProvider(secretFile, `Passphrase for share file ${target}`, false)),
    );
  }
  return sources;
}

/** The shares to issue, one per custodian: a file is its custodian's (shares/alice.share -> alice), a card its reader's. */
export async function shareDestinations(specs: string[], option: string): Promise<CustodianShare[]> {
  const custodians: CustodianShare[] = [];
  for (const spec of specs) {
    const card = parseCardSpec(spec);
    if (card) {
      custodians.push({
        custodian: `card ${card.reader}`,
        destination: await cardDestination(card.reader, card.pinFile),
      });
      continue;
    }
    const { target, secretFile } = splitSpec(spec, option);
    custodians.push({
      custodian: custodianFromPath(target),
      destination: new FileShareDestination(
        target,
        passphraseProvider(secretFile, `New passphrase for share file ${target}`, true),
      ),
    });
  }
  return custodians;
}

/** One line per issued share, as mk generate and mk reshare print them. */
export function printIssuedShares(custodians: readonly CustodianShare[], shares: readonly IssuedShareResult[]): void {
  for (const [i, s] of shares.entries()) {
    out(
      `Share ${s.shareIndex} for ${custodians[i]!.custodian}: ${custodians[i]!.destination.location} (written, read back and checked)`,
    );
  }
}
