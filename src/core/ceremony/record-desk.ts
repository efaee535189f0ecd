import { basename } from 'node:path';
import type { CardDesk } from './card-desk.js';
import { fail, picked, shareSourceOf, type FileFilter, type SecretInput, type SessionPorts } from './session-ports.js';
import type { RecordForCheck, ShareChecked } from './session-view.js';
import { cardShareHintsOf, loadCeremony, verifyShareAgainstRecord } from './share-check.js';

// The start screen's share check in the app: one share against its key's
// record (`share verify`). Nothing is written. (The whole record's check is
// record-check.ts.)

const RECORD_FILTERS: FileFilter[] = [{ name: 'Ceremony record', extensions: ['jsonl'] }];
export const SHARE_FILTERS: FileFilter[] = [{ name: 'Keyshare', extensions: ['keyshare'] }];

export class RecordDesk {
  /** The record opened for checking a share. */
  private checkRecord: string | null = null;

  constructor(private readonly ports: Pick<SessionPorts, 'dialogs'>) {}

  /** Opens a key's record (open dialog) to check shares against it. */
  async openForCheck(): Promise<RecordForCheck> {
    const path = picked(
      await this.ports.dialogs.openFile({ title: 'Open a ceremony record', filters: RECORD_FILTERS }),
    );
    const { summary } = loadCeremony(path);
    this.checkRecord = path;
    return {
      ceremonyId: summary.ceremonyId,
      ceremonyName: summary.ceremonyName,
      keyName: summary.keyName,
      kcv: summary.kcv,
      threshold: summary.threshold,
      shares: summary.shares,
      custodians: [...summary.issued.values()].sort((a, b) => a.shareIndex - b.shareIndex).map((s) => s.custodian),
      fileName: basename(path),
    };
  }

  /** Checks one share (a file chosen in the open dialog, or the card in the reader) against the record opened. */
  async checkShare(secret: SecretInput, bytes: Buffer, cards: CardDesk): Promise<ShareChecked> {
    const record = this.checkRecord;
    if (record === null) fail('WrongStep', 'Open the ceremony record first.');
    const { summary } = loadCeremony(record);
    let path: string | undefined;
    if (secret.medium === 'file') {
      path = picked(
        await this.ports.dialogs.openFile({ title: 'Open the share file to check', filters: SHARE_FILTERS }),
      );
    }
    const source = shareSourceOf(cards, secret, async () => Buffer.from(bytes), path, cardShareHintsOf(summary));
    const r = await cards.touching(secret.medium === 'card' ? secret.reader : null, () =>
      verifyShareAgainstRecord(record, source),
    );
    return { shareIndex: r.header.shareIndex, custodian: r.issued.custodian, kcv: r.summary.kcv };
  }
}
