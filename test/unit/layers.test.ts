// The layer rules (DESIGN.md "Architecture", CONVENTIONS.md "Layers you can
// see") are enforced by the compiler, one tsconfig per layer. These tests
// compile small fixtures under each layer's real tsconfig and check that a
// violation fails with the message that names the rule, and that an allowed
// use of the same layer compiles (so a failure comes from the rule, not from
// the fixture set-up).
//
// They also check two hardening rules that live in declarative files, where
// a quiet edit would otherwise go unnoticed: the renderer's CSP and the
// packaging configuration.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RENDERER_CSP, RENDERER_CSP_META } from '../../src/shared/csp.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = path.join(projectRoot, 'test/fixtures/layer-violation');
// The script behind node_modules/.bin/tsc, run with this Node so the test
// does not depend on the shell shim.
const tscScript = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const execFileAsync = promisify(execFile);

interface CompileResult {
  readonly exitCode: number;
  readonly output: string;
}

/** Compiles test/fixtures/layer-violation/tsconfig.<fixture>.json. */
async function compileFixture(fixture: string): Promise<CompileResult> {
  const project = path.join(fixtures, `tsconfig.${fixture}.json`);
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [tscScript, '-p', project, '--pretty', 'false'], {
      cwd: projectRoot,
    });
    return { exitCode: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failure.code !== 'number') throw error;
    return { exitCode: failure.code, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

describe.concurrent('src/core, src/emulator and src/cli (src/tsconfig.node.json)', () => {
  it('cannot import Electron', async () => {
    const result = await compileFixture('core-imports-electron-violation');
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain('src/core, src/emulator and src/cli must not import Electron');
  });

  it('cannot import React', async () => {
    const result = await compileFixture('core-imports-react-violation');
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain('src/core, src/emulator and src/cli must not import React');
  });

  it('cannot use the DOM', async () => {
    const result = await compileFixture('core-uses-dom-violation');
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain("Cannot find name 'document'");
  });

  it('can use Node (the fixture set-up itself compiles)', async () => {
    const result = await compileFixture('core-uses-node-allowed');
    expect(result.output).toBe('');
    expect(result.exitCode).toBe(0);
  });
});

describe('src/core and the IPC contract', () => {
  // Core returns domain types; src/main maps them to the IPC views (issue 11,
  // "One engine"). So no file under src/core may import src/shared/ipc.ts,
  // not even for a type.
  const importsIpc = /(?:from|import)\s*\(?\s*['"][^'"]*\/shared\/ipc(?:\.js|\.ts)?['"]/;

  it('no file under src/core imports src/shared/ipc.ts', async () => {
    const { readdir } = await import('node:fs/promises');
    const core = path.join(projectRoot, 'src/core');
    const files = (await readdir(core, { recursive: true })).filter((f) => /\.[cm]?tsx?$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    const offenders: string[] = [];
    for (const f of files) {
      if (importsIpc.test(await readFile(path.join(core, f), 'utf8'))) offenders.push(`src/core/${f}`);
    }
    expect(offenders, 'these core files import src/shared/ipc.ts; return a domain type and map it in src/main').toEqual(
      [],
    );
  });

  it('the check catches an import of the contract', () => {
    expect(importsIpc.test("import type { CardsView } from '../../shared/ipc.js';")).toBe(true);
    expect(importsIpc.test("const m = await import('../shared/ipc.js');")).toBe(true);
    expect(importsIpc.test("import { missingCase } from '../shared/error-codes.js';")).toBe(false);
  });
});

describe.concurrent('src/renderer (src/renderer/tsconfig.json)', () => {
  const rendererGuard = 'src/renderer must not import Electron or Node';

  it('cannot import Node built-ins', async () => {
    const result = await compileFixture('renderer-imports-node-violation');
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain(rendererGuard);
  });

  it("cannot see Node's globals", async () => {
    const result = await compileFixture('renderer-uses-node-globals-violation');
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain("Cannot find name 'process'");
  });

  it('cannot import Electron', async () => {
    const result = await compileFixture('renderer-imports-electron-violation');
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain(rendererGuard);
  });

  it('can use the DOM, React and src/shared (the fixture set-up itself compiles)', async () => {
    const result = await compileFixture('renderer-uses-dom-and-shared-allowed');
    expect(result.output).toBe('');
    expect(result.exitCode).toBe(0);
  });
});

describe.concurrent('src/main (src/main/tsconfig.json)', () => {
  it('cannot use the DOM', async () => {
    const result = await compileFixture('main-uses-dom-violation');
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain("Cannot find name 'document'");
  });
});

describe("the renderer's Content-Security-Policy", () => {
  it('is the same in index.html and in the header main sends, except frame-ancestors', async () => {
    const html = await readFile(path.join(projectRoot, 'src/renderer/index.html'), 'utf8');
    const metaTags = [...html.matchAll(/<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/g)];
    expect(metaTags).toHaveLength(1);
    expect(metaTags[0]?.[1]).toBe(RENDERER_CSP_META);

    const headerWithoutFrameAncestors = RENDERER_CSP.split(';')
      .map((directive) => directive.trim())
      .filter((directive) => !directive.startsWith('frame-ancestors'))
      .join('; ');
    expect(RENDERER_CSP_META).toBe(headerWithoutFrameAncestors);
  });

  it('allows nothing but the app itself', () => {
    const directives = new Map(
      RENDERER_CSP.split(';').map((directive) => {
        const [name = '', ...sources] = directive.trim().split(/\s+/);
        return [name, sources.join(' ')] as const;
      }),
    );
    expect(Object.fromEntries(directives)).toEqual({
      'default-src': "'self'",
      'script-src': "'self'",
      'object-src': "'none'",
      'base-uri': "'none'",
      'frame-ancestors': "'none'",
      'form-action': "'none'",
    });
  });
});

describe('electron-builder.yml', () => {
  // There is no YAML parser among the dependencies, and the file is simple
  // enough to read line by line: top-level keys at column 0, their entries
  // indented below them.
  async function readBuilderConfig(): Promise<string[]> {
    const text = await readFile(path.join(projectRoot, 'electron-builder.yml'), 'utf8');
    return text.split(/\r?\n/);
  }

  /** The lines of a top-level block, without comments or blank lines. */
  function block(lines: readonly string[], key: string): string[] {
    const start = lines.findIndex((line) => line.startsWith(`${key}:`));
    expect(start, `electron-builder.yml has no top-level "${key}"`).toBeGreaterThanOrEqual(0);
    const body: string[] = [];
    for (const line of lines.slice(start + 1)) {
      if (/^\S/.test(line)) break;
      const content = line.trim();
      if (content !== '' && !content.startsWith('#')) body.push(content);
    }
    return body;
  }

  function topLevelValue(lines: readonly string[], key: string): string | undefined {
    return lines
      .find((line) => line.startsWith(`${key}:`))
      ?.slice(key.length + 1)
      .trim();
  }

  const unquote = (value: string): string => value.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');

  it('packages only the built app and package.json: no tests, sources, test bridge or source maps', async () => {
    const patterns = block(await readBuilderConfig(), 'files').map((item) => {
      expect(item.startsWith('- '), `unexpected line in files: ${item}`).toBe(true);
      return unquote(item.slice(2).trim());
    });
    const included = patterns.filter((pattern) => !pattern.startsWith('!'));
    const excluded = patterns.filter((pattern) => pattern.startsWith('!'));

    // Anything else included (test/**, src/**, **/*) would ship it.
    expect(included.sort()).toEqual(['out/**/*', 'package.json']);
    expect(excluded).toEqual(expect.arrayContaining(['!test/**', '!src/**', '!**/*.map', '!out/**/*test-bridge*']));
  });

  it('packs into asar and has no publish (auto-update) target', async () => {
    const lines = await readBuilderConfig();
    expect(topLevelValue(lines, 'asar')).toBe('true');
    expect(topLevelValue(lines, 'publish')).toBe('null');
  });

  it('sets the Electron fuses, with key names electron-builder knows', async () => {
    const entries = block(await readBuilderConfig(), 'electronFuses').map((line) => {
      const match = /^(\w+):\s*(true|false)$/.exec(line);
      expect(match, `unexpected line in electronFuses: ${line}`).not.toBeNull();
      return [match?.[1] ?? '', match?.[2] === 'true'] as const;
    });
    const fuses = Object.fromEntries(entries);

    expect(fuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
      grantFileProtocolExtraPrivileges: false,
    });

    // A misspelt key would be rejected by electron-builder only at package
    // time; check the names against its own schema now.
    const schema = JSON.parse(
      await readFile(path.join(projectRoot, 'node_modules/app-builder-lib/scheme.json'), 'utf8'),
    ) as { definitions: { FuseOptionsV1: { properties: Record<string, unknown> } } };
    const knownFuses = Object.keys(schema.definitions.FuseOptionsV1.properties);
    expect(knownFuses).toEqual(expect.arrayContaining(Object.keys(fuses)));
  });
});

describe('the built app (out/)', () => {
  // `npm test` builds before it runs these, so out/ is what would be packaged.
  async function filesUnder(dir: string): Promise<string[]> {
    const { readdir } = await import('node:fs/promises');
    const entries = await readdir(dir, { withFileTypes: true, recursive: true });
    return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  }

  it('holds no trace of the end-to-end test bridge', async () => {
    const { BRIDGE_MARKER } = await import('../e2e/bridge/bridge.js');
    const files = await filesUnder(path.join(projectRoot, 'out'));
    expect(files.length, 'out/ is empty: run `npm run build` first').toBeGreaterThan(0);
    for (const file of files) {
      const text = await readFile(file, 'latin1');
      expect(text.includes(BRIDGE_MARKER), `${path.relative(projectRoot, file)} contains the test bridge`).toBe(false);
      expect(text.includes('test/e2e'), `${path.relative(projectRoot, file)} refers to test/e2e`).toBe(false);
    }
  });

  it('has the main process, a CommonJS preload and the renderer', async () => {
    const files = (await filesUnder(path.join(projectRoot, 'out'))).map((f) => path.relative(projectRoot, f));
    expect(files).toEqual(
      expect.arrayContaining(['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html']),
    );
  });
});
