// Shared by the core (which sets it), the CLI and the renderer (which say how).

/**
 * What a person does about a card refusal, as a closed list carried in the
 * error's details (`remedy`). The core says it in words; each front end adds
 * how to do it there (the CLI its options, the app its panels), so no core
 * message names a command-line option the app does not have.
 */
export const CARD_REMEDIES = [
  /** Prepare the card (new PIN and PUK, a PIN-protected management key). */
  'prepare',
  /** Prepare the card giving the management key its owner set, so it can be kept PIN-protected. */
  'prepare-with-management-key',
  /** The owner agrees, by name, to replace what the slot holds. */
  'owner-consent-to-replace',
  /** Choose a new PIN (the card still has the factory PIN). */
  'new-pin',
  /** Choose a new PUK (the card still has the factory PUK). */
  'new-puk',
  /** Give the card's current PUK to change it (it is not the factory PUK). */
  'current-puk',
] as const;
export type CardRemedy = (typeof CARD_REMEDIES)[number];
