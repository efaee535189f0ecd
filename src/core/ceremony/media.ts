import { basename } from 'node:path';
import { CeremonyError } from '../errors.js';
import {
  openShareWithPassphrase,
  sealShareWithPassphrase,
  type KeyshareEnvelope,
  type KeyshareHeader,
} from '../shares/envelope.js';
import { readShareFile, writeShareFile } from '../shares/file-store.js';
import { assertFolderWritable, assertOutputFree } from '../files.js';
import { zeroize } from '../secrets.js';
import { checkPassphrase } from '../passphrase.js';

// Where a share lives. Files now; PIV cards implement the same interfaces
// (issue 3). Secrets (passphrases, PINs) are fetched only when needed, from
// a provider, so a CLI can prompt and the app can ask the right person.

/** Returns a fresh buffer holding a passphrase or PIN; the receiver zeroes it. */
export type SecretProvider = () => Promise<Buffer>;

export interface ShareDestination {
  /** "file shares/alice.share", for messages and the record. */
  readonly label: string;
  readonly medium: 'file' | 'card';
  /** Where it is, for the record: a file name, a card serial. Never a secret. */
  readonly location: string;
  /**
   * Fails early, before any key exists, if the destination cannot be used;
   * collects and checks the secret it will need (passphrase, PIN), so no
   * share is written for a ceremony that cannot complete.
   */
  precheck(): Promise<void>;
  /** Seals and stores the share. */
  write(header: KeyshareHeader, share: Uint8Array): Promise<void>;
  /** Reads the share back (the proof that it was stored). Secret: caller zeroes. */
  readBack(): Promise<Buffer>;
  /** Zeroes any secret held since precheck. Always called, success or not. */
  dispose(): void;
}

export interface ShareSource {
  readonly label: string;
  /** The readable header, without any secret. */
  header(): Promise<KeyshareHeader>;
  /** Opens the share. Secret: caller zeroes. */
  open(): Promise<Buffer>;
}

export class FileShareDestination implements ShareDestination {
  readonly medium = 'file' as const;
  readonly label: string;
  readonly location: string;
  /** The new passphrase, held from precheck to dispose. Secret: never log. */
  private secret: Buffer | undefined;
  constructor(
    readonly path: string,
    private readonly passphrase: SecretProvider,
    private readonly scryptCost?: { logN: number; r: number; p: number },
  ) {
    this.label = `share file ${path}`;
    this.location = basename(path);
  }
  async precheck(): Promise<void> {
    assertOutputFree(this.path);
    assertFolderWritable(this.path);
    this.dispose();
    this.secret = await this.passphrase();
    checkPassphrase(this.secret, `The passphrase for ${this.label}`);
  }
  private held(): Buffer {
    if (!this.secret) throw new Error('FileShareDestination used before precheck');
    return this.secret;
  }
  async write(header: KeyshareHeader, share: Uint8Array): Promise<void> {
    writeShareFile(this.path, await sealShareWithPassphrase(header, share, this.held(), this.scryptCost));
  }
  async readBack(): Promise<Buffer> {
    const pass = Buffer.from(this.held());
    return new FileShareSource(this.path, async () => pass).open();
  }
  dispose(): void {
    zeroize(this.secret);
    this.secret = undefined;
  }
}

export class FileShareSource implements ShareSource {
  readonly label: string;
  private envelope: KeyshareEnvelope | undefined;
  constructor(
    readonly path: string,
    private readonly passphrase: SecretProvider,
  ) {
    this.label = `share file ${path}`;
  }
  private load(): KeyshareEnvelope {
    this.envelope ??= readShareFile(this.path);
    return this.envelope;
  }
  async header(): Promise<KeyshareHeader> {
    return this.load().header;
  }
  async open(): Promise<Buffer> {
    const env = this.load();
    const pass = await this.passphrase();
    try {
      return await openShareWithPassphrase(env, pass, this.label);
    } finally {
      zeroize(pass);
    }
  }
}

export function requireDistinct(labels: string[], what: string): void {
  const seen = new Set<string>();
  for (const l of labels) {
    if (seen.has(l)) throw new CeremonyError('InvalidArgument', `${what} ${l} is given twice.`);
    seen.add(l);
  }
}
