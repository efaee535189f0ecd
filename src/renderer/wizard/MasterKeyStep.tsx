// Step 4, Master key: generated and split in main's memory. The renderer only
// ever sees its key check value (KCV), which everyone writes down.
import { api } from '../lib/bridge.js';
import { ScreenHeading } from '../ui/Heading.js';
import { ContinueFooter } from './ContinueFooter.js';
import { StepAction } from './StepAction.js';
import { StepFrame } from './StepFrame.js';
import { useCeremony } from './context.js';

export function MasterKeyStep() {
  const { view } = useCeremony();
  const setup = view.setup;
  const masterKey = view.masterKey;
  const n = setup?.custodians.length ?? 0;
  const k = setup?.threshold ?? 0;

  return (
    <StepFrame title="Master key">
      {masterKey === null ? (
        <>
          <p className="lead">
            Key Ceremony now generates a new 256-bit AES master key in this computer’s memory and splits it into {n}{' '}
            shares, any {k} of which rebuild it. The key itself is never written to a disk or shown on screen.
          </p>
          <StepAction
            label="Generate the master key"
            busyText="Generating and splitting the master key…"
            invoke={() => api().masterKey.generate()}
          />
        </>
      ) : (
        <>
          <ScreenHeading level={3}>The master key is generated</ScreenHeading>
          <div className="kcv-panel">
            <p className="kcv-label" id="kcv-label">
              Key check value (KCV)
            </p>
            <p className="kcv" data-testid="kcv" aria-describedby="kcv-label">
              {masterKey.kcv}
            </p>
          </div>
          <p className="lead">
            <strong>Everyone in the room writes this KCV down now</strong>, on their copy of the ceremony sheet. It
            identifies this key without revealing it: each custodian sees it again when their share is checked, and the
            crypto units report the same value once they load the key.
          </p>
          <p>
            The key is split into {n} shares; any {k} rebuild it. Next, each custodian receives their share.
          </p>
          <ContinueFooter step="master-key" />
        </>
      )}
    </StepFrame>
  );
}
