/**
 * The YubiKey management application of the virtual card, as far as tools
 * need it to recognise a YubiKey 5 and read its device information
 * (`ykman info`, `ykman --reader … piv …`). Yubico documents it only in its
 * SDKs (yubikit-python `yubikit/management.py`, the .NET SDK "Get device
 * info" command); this is our own implementation of what those read.
 *
 * What it answers:
 * - SELECT of the management AID: the firmware version as ASCII "5.4.3";
 * - READ CONFIG (INS 1D, P1 P2 00 00): the device information, one length
 *   byte followed by TLVs.
 * What it does not: WRITE CONFIG and SET MODE (enabling or disabling
 * applications, locking the configuration) are refused with 6D00; a real
 * YubiKey 5 accepts them. The virtual card has the PIV application only, so
 * it reports PIV as the one supported and enabled USB application, where a
 * real YubiKey 5 lists OTP, FIDO U2F, FIDO2, OATH, OpenPGP and YubiHSM Auth
 * too; it reports no NFC interface.
 */
import { SW, type CommandApdu } from './apdu.js';
import type { CardState } from './state.js';
import { concat, fromHex, tlv } from './tlv.js';

/** AID of the YubiKey management application (yubikit `AID.MANAGEMENT`). */
export const MANAGEMENT_AID = fromHex('a000000527471117');

export const MANAGEMENT_INS = {
  /** Reads the device information TLVs (YubiKey 4.1+). */
  READ_CONFIG: 0x1d,
  WRITE_CONFIG: 0x1c,
  SET_MODE: 0x16,
} as const;

/** Device information tags (yubikit `management.py`). */
export const DEVICE_INFO_TAG = {
  USB_SUPPORTED: 0x01,
  SERIAL: 0x02,
  USB_ENABLED: 0x03,
  FORM_FACTOR: 0x04,
  VERSION: 0x05,
  AUTO_EJECT_TIMEOUT: 0x06,
  CHALLENGE_RESPONSE_TIMEOUT: 0x07,
  DEVICE_FLAGS: 0x08,
  CONFIG_LOCK: 0x0a,
} as const;

/** Application bits of the capability fields (yubikit `CAPABILITY`); the virtual card has PIV only. */
export const CAPABILITY = { PIV: 0x0010 } as const;

/** Form factor codes (yubikit `FORM_FACTOR`): a USB-C keychain, which ykman names "YubiKey 5C". */
export const FORM_FACTOR_USB_C_KEYCHAIN = 0x03;

/** The factory challenge-response timeout of a YubiKey, in seconds. */
const DEFAULT_CHALLENGE_RESPONSE_TIMEOUT = 15;

function u16(n: number): Uint8Array {
  return Uint8Array.of((n >> 8) & 0xff, n & 0xff);
}

function u32(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

export class ManagementApplet {
  constructor(private readonly state: () => CardState) {}

  /** Response to SELECT: the firmware version as text, which ykman parses for "major.minor.patch". */
  select(): { data: Uint8Array; sw: number } {
    return { data: new Uint8Array(Buffer.from(this.state().version.join('.'), 'ascii')), sw: SW.OK };
  }

  process(cmd: CommandApdu): { data: Uint8Array; sw: number } {
    switch (cmd.ins) {
      case MANAGEMENT_INS.READ_CONFIG:
        if (cmd.p1 !== 0x00 || cmd.p2 !== 0x00) return { data: new Uint8Array(0), sw: SW.INCORRECT_P1P2 };
        return { data: this.deviceInfo(), sw: SW.OK };
      default:
        return { data: new Uint8Array(0), sw: SW.INS_NOT_SUPPORTED };
    }
  }

  /** Device information: a length byte, then the TLVs a YubiKey 5 without NFC reports. */
  deviceInfo(): Uint8Array {
    const s = this.state();
    const tlvs = concat(
      tlv(DEVICE_INFO_TAG.USB_SUPPORTED, u16(CAPABILITY.PIV)),
      tlv(DEVICE_INFO_TAG.SERIAL, u32(s.serial)),
      tlv(DEVICE_INFO_TAG.USB_ENABLED, u16(CAPABILITY.PIV)),
      tlv(DEVICE_INFO_TAG.FORM_FACTOR, Uint8Array.of(FORM_FACTOR_USB_C_KEYCHAIN)),
      tlv(DEVICE_INFO_TAG.VERSION, Uint8Array.from(s.version)),
      tlv(DEVICE_INFO_TAG.AUTO_EJECT_TIMEOUT, u16(0)),
      tlv(DEVICE_INFO_TAG.CHALLENGE_RESPONSE_TIMEOUT, Uint8Array.of(DEFAULT_CHALLENGE_RESPONSE_TIMEOUT)),
      tlv(DEVICE_INFO_TAG.DEVICE_FLAGS, Uint8Array.of(0)),
      tlv(DEVICE_INFO_TAG.CONFIG_LOCK, Uint8Array.of(0)),
    );
    return concat(Uint8Array.of(tlvs.length), tlvs);
  }
}
