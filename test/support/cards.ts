// Virtual PIV cards prepared as `keyceremony card prepare` would leave them
// (new PIN and PUK, random PIN-protected management key), for tests that
// need a card a ceremony will accept.
import { prepareCard, withCard } from '../../src/core/cards/roles.js';
import { VirtualPivCard, type VirtualPivCardOptions } from '../../src/virtual-card/card.js';
import { InProcessTransport } from '../../src/virtual-card/transport.js';

/** A prepared card with this PIN; with `stateFile`, its state is kept there (for a vpcd card process). */
export async function preparedCard(
  pin: string,
  options: VirtualPivCardOptions = {},
  puk = '97531864',
): Promise<VirtualPivCard> {
  const t = new InProcessTransport(['x']);
  const card = new VirtualPivCard(options);
  t.insert('x', card);
  const a = (s: string): Buffer => Buffer.from(s, 'ascii');
  await withCard(t, 'x', (s) => prepareCard(s, { pin: a('123456'), newPin: a(pin), newPuk: a(puk) }));
  t.remove('x');
  return card;
}
