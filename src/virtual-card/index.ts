/** Virtual PIV card (card side): a YubiKey 5-like PIV card for tests and rehearsal mode. */
export { VirtualPivCard, YUBIKEY5_ATR, type VirtualPivCardOptions } from './card.js';
export { InProcessCardReader } from './in-process.js';
export { VpcdClient, VPCD_DEFAULT_HOST, VPCD_DEFAULT_PORT, type VpcdClientOptions } from './vpcd.js';
export { PIV_AID, INS, INS_NAMES } from './piv-applet.js';
export { SW, buildApdu, parseCommandApdu } from './apdu.js';
export {
  ALG,
  PIN_POLICY,
  TOUCH_POLICY,
  DEFAULT_PIN,
  DEFAULT_PUK,
  DEFAULT_MGMT_KEY_HEX,
  loadOrCreate,
  loadState,
  saveState,
  newCardState,
  type CardState,
} from './state.js';
