// The rehearsal banner (issue 11, "Rehearsal mode"): on every screen of a
// rehearsal, from its Set up to its Close, so that a rehearsal cannot be
// mistaken for a production ceremony. A status region: screen readers
// announce it when it appears.
export const REHEARSAL_BANNER_TEXT = 'REHEARSAL \u2014 no real key, card or unit is used';

export function RehearsalBanner() {
  return (
    <div className="rehearsal-banner" role="status">
      <p>
        <strong>{REHEARSAL_BANNER_TEXT}</strong>
      </p>
      <p className="rehearsal-banner-detail">
        Virtual cards in rehearsal card readers and in-process rehearsal units stand in for the real ones. Every file
        saved is named REHEARSAL-…, every record entry says rehearsal, and the bundle is marked so that production units
        refuse it.
      </p>
    </div>
  );
}
