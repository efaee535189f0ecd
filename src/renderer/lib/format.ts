// Small text helpers shared by the screens.

/** Splits a hex string into groups of `size` digits, for comparing by eye. */
export function groupHex(hex: string, size = 4): string[] {
  const groups: string[] = [];
  for (let i = 0; i < hex.length; i += size) groups.push(hex.slice(i, i + size));
  return groups;
}

/** "1 try" / "3 tries". */
export function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function mediumLabel(medium: 'card' | 'file'): string {
  return medium === 'card' ? 'Smart card' : 'File';
}

/** Ends an exhaustive switch: a new case that is not handled fails to compile. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}
