import {
  accessSync,
  closeSync,
  constants as fsConstants,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { CeremonyError } from './errors.js';

// ---------------------------------------------------------------------------
// Test hook: killed at any moment (issue 10, "Killed at any moment, nothing
// lost"). The kill harness (test/integration/kill.test.ts) stops a command
// with SIGKILL at each of its durable writes, to check that what is on disk
// is always either as before or as after the command. It sets
//
//   KEYCEREMONY_TEST_KILL_AT=<n>:<phase>
//
// where <n> counts the durable writes of the process (writeFileExclusive and
// replaceFileAtomic, from 1) and <phase> is `before` (nothing of write n is
// on disk), `temp` (its temporary .partial file is written and fsynced, not
// yet under its final name) or `after` (write n is complete). The process
// then kills itself: no handler, no finally block, no exit code runs, as
// when the power goes. When the variable is not set, as in every release
// run, the hook does nothing but count. Anything else in it is ignored.

export const KILL_AT_VARIABLE = 'KEYCEREMONY_TEST_KILL_AT';
export const KILL_PHASES = ['before', 'temp', 'after'] as const;
export type KillPhase = (typeof KILL_PHASES)[number];

let durableWrites = 0;

function killAt(): { n: number; phase: KillPhase } | null {
  const m = /^([1-9][0-9]{0,5}):(before|temp|after)$/.exec(process.env[KILL_AT_VARIABLE] ?? '');
  return m ? { n: Number(m[1]), phase: m[2] as KillPhase } : null;
}

/** Counts one durable write; returns the hook that kills the process at the phase named in the test variable. */
function durableWrite(): (phase: KillPhase) => void {
  const n = ++durableWrites;
  const at = killAt();
  if (at === null || at.n !== n) return () => {};
  return (phase) => {
    if (phase === at.phase) process.kill(process.pid, 'SIGKILL');
  };
}

function fsyncDir(dir: string): void {
  // Makes the new directory entry durable. Not every platform can open a
  // directory (Windows cannot); the data itself was already fsynced.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

function writeAllAndSync(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
  fsyncSync(fd);
}

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`);
}

/** A write that failed for a reason a person can fix (no such folder, read-only, full). */
function unwritable(e: unknown, path: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  const folder = dirname(path);
  const why: Record<string, string> = {
    ENOENT: `the folder ${folder} does not exist`,
    ENOTDIR: `${folder} is not a folder`,
    EACCES: `the folder ${folder} cannot be written (permission denied)`,
    EPERM: `the folder ${folder} cannot be written (permission denied)`,
    EROFS: `the medium holding ${folder} is read-only`,
    ENOSPC: `the medium holding ${folder} is full`,
    EDQUOT: `the medium holding ${folder} is full`,
  };
  const reason = code === undefined ? undefined : why[code];
  if (reason === undefined) return e;
  return new CeremonyError(
    'OutputUnwritable',
    `${basename(path)} cannot be written: ${reason}. Nothing was written; choose another place.`,
    { path },
  );
}

function outputExists(path: string): CeremonyError {
  return new CeremonyError('OutputExists', `${path} already exists; nothing was overwritten. Choose another name.`, {
    path,
  });
}

/**
 * Writes a new file atomically and never replaces an existing one.
 *
 * The data goes to a temporary file in the same directory, is fsynced, and
 * is then hard-linked to its final name: link(2) fails with EEXIST instead
 * of replacing, and a reader never sees a half-written file. File systems
 * without hard links (FAT/exFAT on removable media) fall back to an
 * O_EXCL create, which keeps the no-overwrite guarantee; a crash there can
 * leave a partial file, which the readers detect (the formats are
 * authenticated) and which the next attempt will not overwrite.
 *
 * Callers never pass cleartext secrets here: shares are sealed first.
 */
export function writeFileExclusive(path: string, data: Uint8Array | string, mode = 0o600): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const killHook = durableWrite();
  killHook('before');
  const tmp = tempPathFor(path);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', mode);
  } catch (e) {
    throw unwritable(e, path);
  }
  try {
    writeAllAndSync(fd, bytes);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw unwritable(e, path);
  }
  closeSync(fd);
  killHook('temp');
  try {
    linkSync(tmp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      unlinkSync(tmp);
      throw outputExists(path);
    }
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') {
      unlinkSync(tmp);
      throw e;
    }
    unlinkSync(tmp);
    writeExclusiveDirect(path, bytes, mode);
    killHook('after');
    return;
  }
  unlinkSync(tmp);
  fsyncDir(dirname(path));
  killHook('after');
}

function writeExclusiveDirect(path: string, bytes: Uint8Array, mode: number): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw outputExists(path);
    throw e;
  }
  try {
    writeAllAndSync(fd, bytes);
  } catch (e) {
    closeSync(fd);
    unlinkSync(path);
    throw e;
  }
  closeSync(fd);
  fsyncDir(dirname(path));
}

/**
 * Replaces a file atomically (temp file, fsync, rename): readers see the old
 * or the new content, never a mix. For files that are meant to change: a
 * bundle gaining a signature, the emulator's state.
 */
export function replaceFileAtomic(path: string, data: Uint8Array | string, mode = 0o600): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const killHook = durableWrite();
  killHook('before');
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeAllAndSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
  killHook('temp');
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
  fsyncDir(dirname(path));
  killHook('after');
}

/**
 * Adds text at the end of a file as one atomic step: the file is rewritten
 * whole (temp file, fsync, rename), so a reader sees it without the new
 * text or with all of it, never a half-written line, even when the process
 * is killed or the power goes in the middle (issue 10). A plain append(2)
 * could leave part of a line behind. `before` must be the file's whole
 * current content, as the caller read and checked it; the file keeps its
 * permissions.
 */
export function appendAtomically(path: string, before: Uint8Array, added: string): void {
  const mode = statSync(path).mode & 0o777;
  replaceFileAtomic(path, Buffer.concat([before, Buffer.from(added, 'utf8')]), mode);
}

/** Reads a file, turning "not there" into an error a person can act on. */
/** No file this tool reads (record, bundle, share, identity, transport, state) comes near this; a larger one is refused unread. */
export const MAX_INPUT_BYTES = 16 * 2 ** 20;

export function readFileOrFail(path: string, what: string, maxBytes = MAX_INPUT_BYTES): Buffer {
  try {
    const size = statSync(path).size;
    if (size > maxBytes) {
      throw new CeremonyError(
        'InvalidArgument',
        `${what} ${path} is ${size} bytes; this tool reads at most ${maxBytes} bytes of it. It is not the file you meant, or it was altered.`,
        { path },
      );
    }
    return readFileSync(path);
  } catch (e) {
    if (e instanceof CeremonyError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CeremonyError('FileNotFound', `${what} ${path} does not exist.`, { path });
    if (code === 'EISDIR') throw new CeremonyError('InvalidArgument', `${what} ${path} is a directory.`, { path });
    if (code === 'EACCES')
      throw new CeremonyError('InvalidArgument', `${what} ${path} cannot be read (permission denied).`, { path });
    throw e;
  }
}

/** The folder of a file about to be written exists and can be written: checked before any key exists. */
export function assertFolderWritable(path: string): void {
  try {
    accessSync(dirname(path), fsConstants.W_OK);
    if (!statSync(dirname(path)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
  } catch (e) {
    throw unwritable(e, path);
  }
}

export function assertOutputFree(path: string): void {
  try {
    readFileSync(path, { flag: 'r' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'EISDIR') throw outputExists(path);
    throw e;
  }
  throw outputExists(path);
}

/** A name (a key's, a person's) made safe for a file name: letters, digits, `.`, `_` and `-`, at most 48. */
export function safeFileStem(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s.length > 0 ? s.slice(0, 48) : 'unnamed';
}
