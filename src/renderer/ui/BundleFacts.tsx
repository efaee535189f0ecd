// What a built bundle does, as its signers read it before signing: the
// action in one sentence, the key, the units, the admins it adds or removes
// and the thresholds it sets (when it does), its payload hash and the
// signatures so far. One panel for every wizard that builds a bundle.
import type { BundleView } from '../../shared/ipc.js';

export interface BundleFactsView {
  readonly summary: BundleView['summary'];
  readonly targets: readonly string[];
  readonly payloadHash: string;
  readonly signedBy: readonly string[];
  readonly required: number;
}

export function BundleFacts({
  bundle,
  keyLabel = 'Key',
  testId,
  removedName,
}: {
  readonly bundle: BundleFactsView;
  readonly keyLabel?: string;
  readonly testId: string;
  /**
   * An admin change's wording: the admins it adds (by name), the admins it
   * removes by name (the bundle names them by thumbprint; this maps one to
   * its name, from the units' current admins) and the new thresholds.
   */
  readonly removedName?: (thumbprint: string) => string;
}) {
  const s = bundle.summary;
  const change = removedName !== undefined;
  return (
    <div className="result-panel">
      <p>
        <strong>{s.action}</strong>
      </p>
      <dl className="fact-list record-facts">
        <div>
          <dt>{keyLabel}</dt>
          <dd>
            {s.keyName} (KCV <span className="mono">{s.kcv}</span>)
          </dd>
        </div>
        <div>
          <dt>Units</dt>
          <dd className="mono">{bundle.targets.join(', ')}</dd>
        </div>
        {s.adminsInstalled.length > 0 && (
          <div>
            <dt>{change ? 'Admins added' : 'Admins installed'}</dt>
            <dd>
              {change
                ? s.adminsInstalled.map((a) => a.name).join(', ')
                : s.adminsInstalled.map((a) => `${a.name} (${a.fingerprintGroups.slice(0, 4).join(' ')} …)`).join(', ')}
            </dd>
          </div>
        )}
        {s.adminsRemoved.length > 0 && (
          <div>
            <dt>Admins removed</dt>
            {change ? (
              <dd>{s.adminsRemoved.map(removedName).join(', ')}</dd>
            ) : (
              <dd className="mono">{s.adminsRemoved.join(', ')}</dd>
            )}
          </div>
        )}
        {s.thresholds && (
          <div>
            <dt>{change ? 'New thresholds' : 'Thresholds'}</dt>
            <dd>{`signature ${s.thresholds.signatureThreshold}, revocation ${s.thresholds.revocationThreshold}`}</dd>
          </div>
        )}
        <div>
          <dt>Payload SHA-256</dt>
          <dd className="mono" data-testid={testId}>
            {bundle.payloadHash}
          </dd>
        </div>
        <div>
          <dt>Signatures</dt>
          <dd>
            {`${bundle.signedBy.length} of ${bundle.required}`}
            {bundle.signedBy.length > 0 && ` (${bundle.signedBy.join(', ')})`}
          </dd>
        </div>
      </dl>
    </div>
  );
}
