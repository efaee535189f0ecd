// The app's reader list (src/core/ceremony/card-desk.ts) stays true after a
// card is used through the desk's transport by any step (a share written, a
// PIN verified or mistyped), without the card being reinserted (issue 11).
import { describe, expect, it } from 'vitest';
import { withCard } from '../../../src/core/cards/roles.js';
import { CardDesk } from '../../../src/core/ceremony/card-desk.js';
import { SerialQueue } from '../../../src/core/ceremony/serial-queue.js';
import { InProcessTransport } from '../../../src/virtual-card/transport.js';
import { preparedCard } from '../../support/cards.js';

const READER = 'Virtual PIV reader 0';
const PIN = '246813';

describe('the card desk’s reader list', () => {
  it('shows the PIN tries left after a step used the card, without reinsertion', async () => {
    const transport = new InProcessTransport([READER]);
    transport.insert(READER, await preparedCard(PIN));
    const desk = new CardDesk(async () => transport, new SerialQueue());
    const tries = async (): Promise<number | undefined> =>
      (await desk.list()).readers.find((r) => r.name === READER)?.card?.pinTriesLeft;
    expect(await tries()).toBe(3);

    // A step talks to the card through the desk's transport directly (as a share destination does).
    const wrong = await withCard(await desk.transport(), READER, (s) => s.verifyPin(Buffer.from('000000'))).catch(
      (e: unknown) => e,
    );
    expect(wrong).toMatchObject({ code: 'WrongPin' });
    expect(await tries()).toBe(2);

    await withCard(await desk.transport(), READER, (s) => s.verifyPin(Buffer.from(PIN)));
    expect(await tries()).toBe(3);
  });
});
