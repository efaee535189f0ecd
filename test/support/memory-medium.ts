import type { ShareDestination, ShareSource } from '../../src/core/ceremony/media.js';
import { CeremonyError } from '../../src/core/errors.js';
import type { KeyshareHeader } from '../../src/core/shares/envelope.js';

/**
 * A share medium in memory, for the ceremony engine's unit tests: what was
 * written (to read back or tamper with), whether it was disposed, and a way
 * to fail: `failWrite` pulls it out when it is written.
 */
export class MemoryMedium implements ShareDestination, ShareSource {
  readonly medium = 'file' as const;
  stored: { header: KeyshareHeader; share: Buffer } | undefined;
  disposed = false;
  constructor(
    readonly label: string,
    private readonly failWrite = false,
  ) {}
  get location(): string {
    return this.label;
  }
  async precheck(): Promise<void> {}
  async write(header: KeyshareHeader, share: Uint8Array): Promise<void> {
    if (this.failWrite) throw new CeremonyError('InvalidArgument', `${this.label} was pulled out`);
    this.stored = { header, share: Buffer.from(share) };
  }
  async readBack(): Promise<Buffer> {
    return Buffer.from(this.stored!.share);
  }
  dispose(): void {
    this.disposed = true;
  }
  async header(): Promise<KeyshareHeader> {
    return this.stored!.header;
  }
  async open(): Promise<Buffer> {
    return Buffer.from(this.stored!.share);
  }
}
