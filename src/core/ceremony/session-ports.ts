import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { padPin } from '../cards/piv.js';
import type { CardTransport } from '../cards/transport.js';
import { CeremonyError } from '../errors.js';
import { zeroize } from '../secrets.js';
import type { CardDesk } from './card-desk.js';
import type { SerialQueue } from './serial-queue.js';
import type { CardShareHints } from './card-media.js';
import { FileShareSource, type ShareSource } from './media.js';
import type { RosterMedium, RosterMode } from './roster.js';
import type { TranscriptEntry } from './transcript.js';

// What the desktop app's sessions reach the outside world through
// (SessionPorts: dialogs, cards, PDF, printing, the work folder, a
// rehearsal's stand-ins), how a person's secret comes in (SecretInput), and
// how a session names and marks what it writes in a rehearsal.

export interface FileFilter {
  name: string;
  extensions: string[];
}

/** File and folder choosers. Null when the person closes the dialog. */
export interface FileDialogs {
  openFile(o: { title: string; filters: FileFilter[] }): Promise<string | null>;
  saveFile(o: { title: string; defaultName: string; filters: FileFilter[] }): Promise<string | null>;
  chooseFolder(o: { title: string }): Promise<string | null>;
}

export interface SessionPorts {
  dialogs: FileDialogs;
  /** The smart-card transport (PC/SC); created once, on first use. */
  openCardTransport(): Promise<CardTransport>;
  /** Renders a self-contained HTML document to PDF. */
  renderPdf(html: string): Promise<Uint8Array>;
  /** Prints a self-contained HTML document (system print dialog); false if canceled. */
  printHtml(html: string): Promise<boolean>;
  /** Folder for the live ceremony record (no secrets are ever written there). */
  workDir: string;
  now?: () => Date;
  /** scrypt cost for share files; tests lower it, the app never sets it. */
  scryptCost?: { logN: number; r: number; p: number };
  /** What a rehearsal uses instead of real cards and units (issue 11); without it a rehearsal is refused. */
  rehearsal?: RehearsalPorts;
}

/**
 * A rehearsal's stand-ins (issue 11, "Rehearsal mode"): in-process virtual
 * cards and an in-process emulator instance in rehearsal mode, so no real
 * card or unit is ever touched. src/main implements them with
 * src/virtual-card and src/emulator (core sees only this interface).
 */
export interface RehearsalPorts {
  /** The in-process virtual card transport (its readers hold virtual cards); created once, on first use. */
  openCardTransport(): Promise<CardTransport>;
  /** Creates an emulator instance in rehearsal mode in `dir` and writes its units' transport files there. */
  createUnits(dir: string): Promise<RehearsalUnitsCreated>;
  /** Offers a bundle to every unit of the instance in `dir`; answers each unit's state afterwards. */
  ingestBundle(dir: string, bundleText: string): Promise<RehearsalIngest>;
  /**
   * Writes the transport files of the instance in `dir` again, in a new
   * folder there (they carry the units' state now: their admins and last
   * sequence), for a later ceremony on the same rehearsal units.
   */
  openUnits(dir: string): Promise<RehearsalUnitsCreated>;
  /** The status of the instance in `dir`, as `crypto-unit-emulator status --json` writes it (lifecycle.ts reads it). */
  unitsStatus(dir: string): Promise<Uint8Array>;
}

/**
 * The cards of a ceremony's mode (issue 11): a rehearsal's virtual cards, or
 * the production cards through PC/SC; a production record never reaches
 * the virtual cards, nor a rehearsal record a real card.
 */
export type CardsByMode = (mode: RosterMode) => CardDesk;

/**
 * What the later ceremonies' wizards share with the app's session (issue
 * 11): the cards of a record's mode (one PC/SC connection; the rehearsal's
 * virtual cards, with the shares its initial ceremony wrote), the one queue
 * of card and record operations (a reader poll never interleaves with a card
 * read in any wizard), and the rehearsal units.
 */
export interface LaterCeremonyPorts {
  readonly cardsFor: CardsByMode;
  readonly queue: SerialQueue;
  readonly rehearsal?: RehearsalPorts;
}

export interface RehearsalUnitsCreated {
  readonly instanceId: string;
  /** Per unit: its transport file, and the fingerprint the unit itself reports (its "display"). */
  readonly units: readonly { readonly unitId: string; readonly transportFile: string; readonly displayed: string }[];
}

/** What one rehearsal unit reports: its state and the KCV of its current master key. */
export interface RehearsalUnitState {
  readonly unitId: string;
  readonly state: string;
  readonly kcv: string | null;
  readonly rehearsal: boolean;
}

export interface RehearsalIngest {
  /** Per unit: accepted or refused, with the unit's sentence. */
  readonly results: readonly { readonly unitId: string; readonly ok: boolean; readonly message: string }[];
  readonly units: readonly RehearsalUnitState[];
}

/** The rehearsal units of this ceremony: what they display, and their state once the bundle was loaded. */
export interface RehearsalUnitsSnapshot {
  readonly instanceId: string;
  readonly displays: readonly { readonly unitId: string; readonly fingerprint: string }[];
  /** Null until "Load into the rehearsal units". */
  readonly loaded: RehearsalIngest | null;
}

/**
 * How a person proves themselves: a passphrase for a file, a reader and PIN
 * for a card. Secret: never logged nor stored; the session turns it into a
 * buffer that is zeroed after the call (withSecretBytes).
 */
export type SecretInput =
  | { readonly medium: 'file'; readonly passphrase: string }
  | { readonly medium: 'card'; readonly reader: string; readonly pin: string };

/** Where a person's file or card is, that their secret opens: the file's path, or the card's serial. */
export type HeldOn =
  { readonly medium: 'file'; readonly path: string } | { readonly medium: 'card'; readonly serial: number };

/** The card's serial, when it is on a card. */
export function cardSerialOf(heldOn: HeldOn): number | null {
  return heldOn.medium === 'card' ? heldOn.serial : null;
}

/**
 * Runs `op` with a person's secret (passphrase, or PIN checked for its
 * length first) as a buffer that is zeroed afterwards whatever happens. The
 * string it came in as cannot be zeroed (JavaScript strings are immutable);
 * it is dropped here and never stored.
 */
export function withSecretBytes<T>(secret: SecretInput, op: (bytes: Buffer) => Promise<T>): Promise<T> {
  return withSecretsBytes([secret.medium === 'file' ? secret.passphrase : secret.pin], async ([bytes]) => {
    if (secret.medium === 'card') zeroize(padPin(bytes!, 'The PIN'));
    return op(bytes!);
  });
}

/** The same for several secrets at once (PIN, new PIN, PUK): each a buffer, all zeroed after `op`. */
export async function withSecretsBytes<T>(texts: readonly string[], op: (bytes: Buffer[]) => Promise<T>): Promise<T> {
  const bytes = texts.map((t) => Buffer.from(t, 'utf8'));
  try {
    return await op(bytes);
  } finally {
    zeroize(...bytes);
  }
}

/** Refuses a secret for the other medium than the person's (a PIN for a file, a passphrase for a card). */
export function expectMedium(medium: RosterMedium, secret: SecretInput, who: string): void {
  if (secret.medium !== medium) {
    fail(
      'InvalidArgument',
      `${who} uses a ${medium === 'card' ? 'smart card' : 'file'}, not a ${secret.medium === 'card' ? 'smart card' : 'file'}.`,
    );
  }
}

export function fail(code: 'WrongStep' | 'InvalidArgument', message: string): never {
  throw new CeremonyError(code, message);
}

/** The path a dialog answered; a closed dialog cancels the call (nothing changed). */
export function picked(path: string | null, what: 'file' | 'folder' = 'file'): string {
  if (path === null) throw new CeremonyError('Canceled', `No ${what} was chosen.`);
  return path;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every file a rehearsal saves starts with this (issue 11: "REHEARSAL" on every saved file name). */
export const REHEARSAL_FILE_PREFIX = 'REHEARSAL-';

/** `name` with the rehearsal prefix in a rehearsal (once), as it is in production otherwise. */
export function fileNameFor(mode: RosterMode, name: string): string {
  return mode === 'rehearsal' && !name.startsWith(REHEARSAL_FILE_PREFIX) ? REHEARSAL_FILE_PREFIX + name : name;
}

/** The path a save dialog answered, its name prefixed in a rehearsal whatever the person typed. */
export function pathFor(mode: RosterMode, path: string): string {
  return join(dirname(path), fileNameFor(mode, basename(path)));
}

/** The save dialog, its suggested and chosen names prefixed in a rehearsal whatever the person typed. */
export async function chooseSavePath(
  dialogs: FileDialogs,
  mode: RosterMode,
  o: { title: string; defaultName: string; filters: FileFilter[] },
): Promise<string> {
  const chosen = await dialogs.saveFile({ ...o, defaultName: fileNameFor(mode, o.defaultName) });
  return pathFor(mode, picked(chosen));
}

/** The mode a record's opening names: rehearsal only when it says so. */
export function modeOfOpening(opening: TranscriptEntry): RosterMode {
  return opening.data['mode'] === 'rehearsal' ? 'rehearsal' : 'production';
}

/**
 * The share a person gives with their secret: the file at `path` with its
 * passphrase, or the share on the card in their reader (of `wanted`) with
 * its PIN. `provide` hands out a copy of the secret each time it is asked.
 */
export function shareSourceOf(
  cards: CardDesk,
  secret: SecretInput,
  provide: () => Promise<Buffer>,
  path: string | undefined,
  wanted: string | CardShareHints,
): ShareSource {
  if (secret.medium === 'file') {
    if (path === undefined) fail('InvalidArgument', 'This share is not in a file.');
    return new FileShareSource(path, provide);
  }
  return cards.shareSource(secret.reader, provide, wanted);
}
