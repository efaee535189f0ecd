// Secrets live in Buffers/Uint8Arrays so they can be overwritten when done
// (JavaScript strings cannot). Never log a value that passes through here.

/** Overwrites every given buffer with zeros. Safe to call on undefined. */
export function zeroize(...buffers: Array<Uint8Array | undefined | null>): void {
  for (const b of buffers) b?.fill(0);
}

/** Runs `use` with a secret and zeroes the secret afterwards, whatever happens. */
export async function withSecret<T>(secret: Uint8Array, use: (s: Uint8Array) => Promise<T> | T): Promise<T> {
  try {
    return await use(secret);
  } finally {
    secret.fill(0);
  }
}
