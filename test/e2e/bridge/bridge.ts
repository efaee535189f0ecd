// The test-only bridge: serves the built renderer (out/renderer) to Debian's
// Chromium and gives the page a `window.keyCeremony` that implements the
// preload contract by calling the very handlers main registers with ipcMain
// (src/main/handlers.ts), against the real core. Only Electron itself is
// missing: its IPC is replaced by a Playwright binding, its dialogs by
// scripted answers, its printToPDF by Chromium's.
//
// This file lives under test/ and is never built into out/ nor packaged
// (electron-builder.yml packages out/** only; test/e2e/packaging.spec.ts
// checks that no bridge code reached out/).
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from '@playwright/test';
import { createPcscTransport } from '../../../src/core/cards/pcsc.js';
import { CeremonySession } from '../../../src/core/ceremony/session.js';
import type { CardTransport } from '../../../src/core/cards/transport.js';
import { RecoverySession } from '../../../src/core/ceremony/recovery-session.js';
import { RotationSession } from '../../../src/core/ceremony/rotation-session.js';
import { UnitsBundleSession } from '../../../src/core/ceremony/units-bundle-session.js';
import { UnitsReportSession } from '../../../src/core/ceremony/units-report-session.js';
import { createHandlers, type Handlers } from '../../../src/main/handlers.js';
import { rehearsalPorts } from '../../../src/main/rehearsal.js';
import { API_VERBS, KEY_CEREMONY_API_NAME } from '../../../src/shared/api.js';
import { RENDERER_CSP } from '../../../src/shared/csp.js';
import { IpcChannel } from '../../../src/shared/ipc.js';
import { ScriptedDialogs } from '../../support/dialogs.js';

/** A marker that must never appear in a build (see packaging.spec.ts). */
export const BRIDGE_MARKER = '__keyCeremonyTestBridge';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

/** Serves a directory on 127.0.0.1 with the app's CSP, as main would. */
export async function serveDirectory(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const file = normalize(join(root, path === '/' ? 'index.html' : path));
      if (!file.startsWith(root + sep) && file !== root) {
        res.writeHead(403).end();
        return;
      }
      try {
        const body = await readFile(file);
        res.writeHead(200, {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
          'content-security-policy': RENDERER_CSP,
        });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export interface Bridge {
  readonly session: CeremonySession;
  readonly handlers: Handlers;
  readonly dialogs: ScriptedDialogs;
  /** Every call the page made, channel and outcome (no arguments: they may hold PINs). */
  readonly calls: Array<{ channel: string; ok: boolean; code?: string }>;
  /** Unexpected failures (bugs) the handlers reported. */
  readonly bugs: string[];
  /** Documents sent to the printer (Chromium has no print dialog to drive). */
  readonly printed: string[];
  close(): Promise<void>;
}

export interface BridgeOptions {
  workDir: string;
  browser: Browser;
  scryptCost?: { logN: number; r: number; p: number };
  networkInterfacesUp?: string[];
  /** Replaces the PC/SC transport (to play a workstation without pcscd). */
  openCardTransport?: () => Promise<CardTransport>;
}

/** Creates the main-process side (session + handlers) for one page. */
export function createBridge(o: BridgeOptions): Bridge {
  const dialogs = new ScriptedDialogs();
  const printed: string[] = [];
  let transport: Promise<CardTransport> | undefined;
  const openCardTransport = o.openCardTransport ?? (() => (transport ??= createPcscTransport()));
  const session = new CeremonySession({
    dialogs,
    openCardTransport,
    renderPdf: async (html) => {
      // Chromium's own PDF printer, in a context with JavaScript off: the
      // counterpart of webContents.printToPDF in src/main/ports.ts.
      const context = await o.browser.newContext({ javaScriptEnabled: false });
      try {
        const page = await context.newPage();
        await page.setContent(html, { waitUntil: 'load' });
        return await page.pdf({ format: 'A4', printBackground: true });
      } finally {
        await context.close();
      }
    },
    printHtml: async (html) => {
      printed.push(html);
      return true;
    },
    workDir: o.workDir,
    // As main passes them (src/main/index.ts): a rehearsal's virtual cards and emulator instance.
    rehearsal: rehearsalPorts(),
    ...(o.scryptCost ? { scryptCost: o.scryptCost } : {}),
  });
  // As main does at start-up (src/main/index.ts).
  session.closeInterruptedRecords();
  const bugs: string[] = [];
  // As main builds them (src/main/index.ts): the later ceremonies on the session's own cards and queue.
  const later = session.laterCeremonyPorts;
  const rotation = new RotationSession({
    dialogs,
    ...later,
    workDir: o.workDir,
    ...(o.scryptCost ? { scryptCost: o.scryptCost } : {}),
  });
  const handlers = createHandlers({
    session,
    recovery: new RecoverySession({ dialogs, ...later, workDir: o.workDir }),
    rotation,
    unitsBundle: new UnitsBundleSession({
      dialogs,
      cardsFor: later.cardsFor,
      ...(later.rehearsal ? { rehearsal: later.rehearsal } : {}),
      workDir: o.workDir,
    }),
    unitsReport: new UnitsReportSession({
      dialogs,
      ...(later.rehearsal ? { rehearsal: later.rehearsal } : {}),
      workDir: o.workDir,
    }),
    appInfo: () => ({ name: 'Key Ceremony', version: 'test', networkInterfacesUp: o.networkInterfacesUp ?? [] }),
    reportBug: (channel, error) => {
      bugs.push(`${channel}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    },
  });
  return {
    session,
    handlers,
    dialogs,
    calls: [],
    bugs,
    printed,
    close: async () => {
      session.dispose();
      rotation.dispose();
      if (transport) await (await transport.catch(() => undefined))?.close();
    },
  };
}

/**
 * Connects a page to the bridge: the binding plays ipcRenderer.invoke plus
 * main's sender check (only the page's own top frame, from the served
 * origin, may call), and an init script builds window.keyCeremony from the
 * same verb table the preload uses (src/shared/api.ts).
 */
export async function attachBridge(page: Page, bridge: Bridge, origin: string): Promise<void> {
  const channels = new Set<string>(Object.values(IpcChannel));
  await page.exposeBinding(BRIDGE_MARKER, async (source, channel: unknown, args: unknown) => {
    if (source.frame !== source.page.mainFrame() || !source.frame.url().startsWith(origin)) {
      return { ok: false, error: { code: 'untrusted-sender', message: 'Only the Key Ceremony window may call.' } };
    }
    if (typeof channel !== 'string' || !channels.has(channel) || !Array.isArray(args)) {
      return { ok: false, error: { code: 'invalid-request', message: 'Unknown channel.' } };
    }
    const result = await bridge.handlers[channel as IpcChannel](args);
    bridge.calls.push({ channel, ok: result.ok, ...(result.ok ? {} : { code: result.error.code }) });
    return result;
  });
  await page.addInitScript(
    ({ verbs, name, marker }) => {
      const call = (window as unknown as Record<string, (c: string, a: unknown[]) => Promise<unknown>>)[marker]!;
      const api: Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>> = {};
      for (const [group, table] of Object.entries(verbs)) {
        const g: Record<string, (...a: unknown[]) => Promise<unknown>> = {};
        for (const [verb, channel] of Object.entries(table)) g[verb] = (...a: unknown[]) => call(channel, a);
        api[group] = Object.freeze(g);
      }
      Object.defineProperty(window, name, { value: Object.freeze(api), writable: false, configurable: false });
    },
    {
      verbs: API_VERBS as unknown as Record<string, Record<string, string>>,
      name: KEY_CEREMONY_API_NAME,
      marker: BRIDGE_MARKER,
    },
  );
}
