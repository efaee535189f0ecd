// Virtual PIV cards prepared as `keyceremony card prepare` would leave them
// (new PIN and PUK, random PIN-protected management key), for tests that
// need a card a ceremony will accept; and an admin's card, whose identity
// was generated on it as the app's Admins step does.
import { cardRs256Signer, generateAdminIdentityOnCard, prepareCard, withCard } from '../../src/core/cards/roles.js';
import type { AdminCertificateInfo, Rs256Signer } from '../../src/core/identity/certificate.js';
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

/** An admin's card: prepared, `name`'s identity generated in slot 9C; its state kept in `stateFile`. */
export interface AdminCard {
  readonly name: string;
  readonly stateFile: string;
  readonly pin: string;
  readonly certificate: AdminCertificateInfo;
  /** Signs with the card's 9C key (the PIN verified before each signature), in process, before vpcd runs it. */
  withSigner<T>(op: (sign: Rs256Signer) => Promise<T>): Promise<T>;
}

export async function adminCard(name: string, pin: string, stateFile: string): Promise<AdminCard> {
  await preparedCard(pin, { stateFile });
  const onCard = async <T>(op: Parameters<typeof withCard<T>>[2]): Promise<T> => {
    const t = new InProcessTransport(['x']);
    t.insert('x', new VirtualPivCard({ stateFile }));
    try {
      return await withCard(t, 'x', op);
    } finally {
      t.remove('x');
    }
  };
  const certificate = await onCard((s) => generateAdminIdentityOnCard(s, name, Buffer.from(pin)));
  return {
    name,
    stateFile,
    pin,
    certificate,
    withSigner: (op) => onCard((s) => op(cardRs256Signer(s, Buffer.from(pin)))),
  };
}
