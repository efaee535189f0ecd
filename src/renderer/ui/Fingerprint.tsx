// Fingerprints and hashes, laid out to be compared group by group and read
// aloud. The text content keeps single spaces between groups, so copying or
// reading it gives "ab12 cd34 …".

export function HexGroups({
  groups,
  testId,
  size = 'large',
  spaced = true,
}: {
  readonly groups: readonly string[];
  readonly testId?: string;
  readonly size?: 'large' | 'medium';
  /**
   * False keeps the text content the bare hex (the groups are spaced by CSS
   * only), so copying it gives the exact value, e.g. a file's SHA-256.
   */
  readonly spaced?: boolean;
}) {
  return (
    <p className={`hex-groups hex-groups-${size}`} data-testid={testId}>
      {groups.map((group, i) => (
        <span key={i} className="hex-group">
          {group}
          {spaced && i < groups.length - 1 ? ' ' : ''}
        </span>
      ))}
    </p>
  );
}

export function FingerprintWords({ words }: { readonly words: readonly string[] }) {
  return (
    <p className="fingerprint-words">
      {words.map((word, i) => (
        <span key={i} className="fingerprint-word">
          {word}
          {i < words.length - 1 ? ' ' : ''}
        </span>
      ))}
    </p>
  );
}
