// File dialogs answered by the test: the bridge (e2e) and the session tests
// queue each answer, with the kind of dialog they expect, before the call
// that opens it.
import type { FileDialogs } from '../../src/core/ceremony/session.js';

/** Which file dialog the app opened. */
export type DialogKind = keyof FileDialogs;

/** Dialog answers the test queues before the click that opens the dialog. */
export class ScriptedDialogs implements FileDialogs {
  private readonly answers: Array<{ kind: DialogKind; path: string | null }> = [];
  readonly asked: Array<{ kind: DialogKind; title: string }> = [];

  answer(kind: DialogKind, path: string | null): void {
    this.answers.push({ kind, path });
  }

  private take(kind: DialogKind, title: string): string | null {
    this.asked.push({ kind, title });
    const next = this.answers.shift();
    if (!next) throw new Error(`The app opened a ${kind} dialog ("${title}") that the test did not expect.`);
    if (next.kind !== kind)
      throw new Error(`The app opened a ${kind} dialog ("${title}"), but the test expected ${next.kind}.`);
    return next.path;
  }

  pending(): number {
    return this.answers.length;
  }

  async openFile(o: { title: string }): Promise<string | null> {
    return this.take('openFile', o.title);
  }
  async saveFile(o: { title: string }): Promise<string | null> {
    return this.take('saveFile', o.title);
  }
  async chooseFolder(o: { title: string }): Promise<string | null> {
    return this.take('chooseFolder', o.title);
  }
}
