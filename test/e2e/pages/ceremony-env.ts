// What the page objects need to know about the ceremony being played: who
// is in the room (ROSTER) and what the spec driving the app provides (FlowEnv:
// how a file dialog is answered, how cards are swapped, where files go).
import type { Page } from '@playwright/test';
import type { DialogKind } from '../../support/dialogs.js';

export type { DialogKind };

export interface FlowEnv {
  page: Page;
  /** Queues the answer to the next file dialog of that kind. */
  answer(kind: DialogKind, path: string): Promise<void>;
  shot(name: string): Promise<void>;
  axe(where: string): Promise<void>;
  /** The two transport key files the emulator exported. */
  transportFiles: [string, string];
  /** Where the people keep their files (identity and share files, the bundle, the record). */
  mediaDir: string;
  readers: { admin: string; custodian: string };
  pins: { alice: string; dora: string; erin: string };
  /** Puts Erin's card in the custodian reader, optionally rigged to be pulled during the write. */
  insertErinCard(pullDuringWrite: boolean): Promise<void>;
  /** Carol's identity file from an earlier ceremony, which she brings (passphrase: see passphraseOf). */
  carolIdentityFile: string;
  /** The ceremony record (JSON Lines) saved into that folder. */
  recordFile(folder: string): Promise<string>;
  /**
   * Exercise the mistakes a person can make (wrong PIN, blocked PIN, pulled
   * card, …) along the way. Dora's card is then factory-fresh and is
   * prepared in the wizard; otherwise it comes prepared with her PIN.
   */
  mistakes: boolean;
}

export const ROSTER = {
  ceremonyName: 'Production master key 2026',
  keyName: 'prodmk26',
  operator: 'Olivia Operator',
  admins: [
    { name: 'Alice Admin', medium: 'card' },
    { name: 'Bob Admin', medium: 'file' },
    { name: 'Carol Admin', medium: 'file' },
  ],
  custodians: [
    { name: 'Dora Custodian', medium: 'card' },
    { name: 'Erin Custodian', medium: 'card' },
    { name: 'Frank Custodian', medium: 'file' },
    { name: 'Grace Custodian', medium: 'file' },
    { name: 'Heidi Custodian', medium: 'file' },
  ],
  witnesses: ['Wendy Witness'],
} as const;

export type Roster = typeof ROSTER;
export type RosterAdmin = Roster['admins'][number];
export type RosterCustodian = Roster['custodians'][number];

export const passphraseOf = (name: string): string => `${name.toLowerCase()} correct horse battery`;

/** A person's first name in lower case, as their files are named ("bob.identity.pem", "frank.keyshare"). */
export const firstNameOf = (name: string): string => name.split(' ')[0]!.toLowerCase();
