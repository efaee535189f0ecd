// One ceremony operation at a time: the cards, the files and the record are
// shared, and two calls from the window (a double click, a poll arriving
// during a write) must not interleave.

/** Serialises calls: one ceremony operation at a time (cards and files are shared). */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  /** Operations queued or running. */
  busy = 0;
  run<T>(op: () => Promise<T>): Promise<T> {
    this.busy += 1;
    const next = this.tail.then(op, op).finally(() => {
      this.busy -= 1;
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}
