/**
 * The instrumented build the fuzzer runs for code coverage: src/ compiled to CommonJS (TypeScript's
 * transpileModule with tsconfig.build.json's options, one file at a time, as tsx runs it) and the
 * model's files instrumented by istanbul-lib-instrument for function and branch-arm counters.
 * The harness (fuzz/, cli/) is compiled but not instrumented, so the tree is one module graph: a
 * worker that loads <dir>/fuzz/worker.js runs the instrumented engine, model and invariants.
 *
 * The build lives in node_modules/.cache/dmaspec/instrumented-<hash>, where the hash covers every
 * source file and the tool versions; it is rebuilt only when that hash has no directory yet, and
 * written to a temporary directory renamed into place, so a concurrent or interrupted build never
 * leaves half a tree. Each file carries an inline source map back to "<dir>/<file>.ts", so stack
 * traces (and execute.ts crash keys, which are relative to the tree) name the same file:line as
 * under tsx.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { createInstrumenter } from 'istanbul-lib-instrument';
import ts from 'typescript';

/** Bump when the build's shape changes, so old caches are not reused. */
const BUILD_VERSION = 2;

/** The global the instrumented files count into (not istanbul's default, so c8/nyc never see it). */
export const COVERAGE_VARIABLE = '__dmaspec_coverage__';

/**
 * Compiled, never instrumented: the harness (fuzz/, cli/), and the per-cache-line and per-entry
 * inner loops whose counters cost more than they tell (measured: the cache-line walk and the
 * sweeping map were 40% of a campaign's CPU time under istanbul; their callers' arms, and the
 * model features' clean/inval/flush markers, still say which cache operations ran).
 */
const UNINSTRUMENTED = ['fuzz/', 'cli/', 'mem/cpu-cache.ts', 'sweeping-map.ts'];

/**
 * istanbul's statement counters (`cov_x().s[12]++`): nothing reads them (coverage-code.ts), yet
 * they are most of the counters run. Each becomes `0` padded with spaces to the same length: valid
 * wherever the counter stood (a statement of its own or the head of a comma expression), and every
 * later column stays put, so the source map still maps stack frames to their TypeScript line.
 */
const STATEMENT_COUNTER = /\bcov_[0-9a-z]+\(\)\.s\[\d+\]\+\+/g;

/** An instrumented file without its statement counters (same length, same lines). */
export function dropStatementCounters(code: string): string {
  return code.replace(STATEMENT_COUNTER, (m) => '0'.padEnd(m.length));
}


export interface ManifestFile {
  /** Path relative to src/, with '/' ("dma/swiotlb.ts"); also the key of its coverage data. */
  readonly file: string;
  readonly functions: number;
  /** Arms per branch point (an if has 2, a switch one per case, && / || one per operand). */
  readonly arms: readonly number[];
}

export interface BuildManifest {
  readonly coverageVariable: string;
  readonly files: readonly ManifestFile[];
  /** Functions plus branch arms over every instrumented file: the "edges" a campaign can reach. */
  readonly total: number;
}

export interface InstrumentedBuild {
  /** The tree: <dir>/fuzz/worker.js mirrors src/fuzz/worker.ts. */
  readonly dir: string;
  readonly manifest: BuildManifest;
  /** false when the cached tree was reused. */
  readonly built: boolean;
  readonly ms: number;
}

export interface BuildOptions {
  /** The package root holding src/ (default: found from this file). */
  readonly root?: string;
  /** Where builds are cached (default <root>/node_modules/.cache/dmaspec). */
  readonly cacheDir?: string;
}

/** The nearest directory above this file holding src/ and package.json: the same under tsx and out/. */
export function packageRoot(from = __dirname): string {
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'src', 'fuzz'))) return d;
    if (dirname(d) === d) throw new Error(`no dmaspec package root above ${from}`);
  }
}

/** Every source file under src/ (not tests), path → text, read once so the hash and the build agree. */
function readSources(srcDir: string, dir = srcDir, out = new Map<string, string>()): Map<string, string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) readSources(srcDir, p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) {
      try {
        out.set(relative(srcDir, p).split(sep).join('/'), readFileSync(p, 'utf8'));
      } catch (err) {
        // A file removed while we list (an editor's temporary): it is not part of the sources.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
  return out;
}

function toolVersion(pkg: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
}

/** The hash naming a build: every source file's path and text, the build version and the tools'. */
export function sourceHash(sources: ReadonlyMap<string, string>): string {
  const h = createHash('sha256');
  h.update(`v${BUILD_VERSION} ts ${ts.version} istanbul ${toolVersion('istanbul-lib-instrument')}\n`);
  for (const f of [...sources.keys()].sort()) h.update(`${f}\0${sources.get(f)}\0`);
  return h.digest('hex').slice(0, 16);
}

/** tsconfig.build.json's options, made to emit one CommonJS file with a separate source map. */
function compilerOptions(root: string): ts.CompilerOptions {
  const path = join(root, 'tsconfig.build.json');
  const read = ts.readConfigFile(path, (p) => ts.sys.readFile(p));
  if (read.error) throw new Error(`${path}: ${ts.flattenDiagnosticMessageText(read.error.messageText, '\n')}`);
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root);
  return {
    ...parsed.options,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    noEmit: false,
    sourceMap: true,
    inlineSourceMap: false,
    inlineSources: false,
    declaration: false,
    outDir: undefined,
  };
}

/** One source file compiled to CommonJS, with its source map naming `tsPath`. */
export function transpile(text: string, tsPath: string, options: ts.CompilerOptions): { code: string; map: { sources: string[] } & Record<string, unknown> } {
  const out = ts.transpileModule(text, { compilerOptions: options, fileName: tsPath, reportDiagnostics: false });
  const map = JSON.parse(out.sourceMapText ?? '{}') as { sources: string[] } & Record<string, unknown>;
  map.sources = [tsPath];
  delete map.sourceRoot;
  // transpileModule ends the code with a sourceMappingURL comment to a file we do not write.
  return { code: out.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n'), map };
}

const inlineMap = (map: object): string => `\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;

/** Builds the tree for `files` into `outDir`, naming sources as if they lived in `finalDir`. */
function build(sources: ReadonlyMap<string, string>, finalDir: string, outDir: string, root: string): BuildManifest {
  const options = compilerOptions(root);
  const instrumenter = createInstrumenter({ coverageVariable: COVERAGE_VARIABLE, esModules: false, produceSourceMap: true, compact: true });
  const manifest: ManifestFile[] = [];
  for (const file of [...sources.keys()].sort()) {
    const { code, map } = transpile(sources.get(file)!, join(finalDir, file), options);
    let text = code;
    let outMap: object = map;
    if (!UNINSTRUMENTED.some((h) => file.startsWith(h))) {
      // The coverage key is the file's name under src/: short, and the same whatever the cache path.
      text = dropStatementCounters(instrumenter.instrumentSync(code, file, map as never));
      outMap = instrumenter.lastSourceMap() ?? map;
      const cov = instrumenter.lastFileCoverage();
      manifest.push({ file, functions: Object.keys(cov.fnMap).length, arms: Object.values(cov.branchMap).map((b) => b.locations.length) });
    }
    const js = join(outDir, file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(js), { recursive: true });
    writeFileSync(js, text.replace(/\n?$/, '') + inlineMap(outMap));
  }
  const total = manifest.reduce((n, f) => n + f.functions + f.arms.reduce((a, b) => a + b, 0), 0);
  return { coverageVariable: COVERAGE_VARIABLE, files: manifest, total };
}

const MANIFEST = 'manifest.json';

/** The instrumented tree for the current sources: the cached one, or a fresh build. */
export function instrumentedBuild(opts: BuildOptions = {}): InstrumentedBuild {
  const t0 = Date.now();
  const root = opts.root ?? packageRoot();
  const srcDir = join(root, 'src');
  const cacheDir = opts.cacheDir ?? join(root, 'node_modules', '.cache', 'dmaspec');
  const sources = readSources(srcDir);
  const dir = resolve(cacheDir, `instrumented-${sourceHash(sources)}`);
  const manifestPath = join(dir, MANIFEST);
  if (existsSync(manifestPath)) {
    return { dir, manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as BuildManifest, built: false, ms: Date.now() - t0 };
  }
  // One builder at a time (parallel test files, two campaigns started together): the others wait.
  mkdirSync(cacheDir, { recursive: true });
  const lock = `${dir}.lock`;
  if (!takeLock(lock, manifestPath)) {
    return { dir, manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as BuildManifest, built: false, ms: Date.now() - t0 };
  }
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    const manifest = build(sources, dir, tmp, root);
    writeFileSync(join(tmp, MANIFEST), JSON.stringify(manifest));
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process finished the same build first: use its tree.
      if (!existsSync(manifestPath)) throw e;
    }
    pruneOld(cacheDir, dir);
    return { dir, manifest, built: true, ms: Date.now() - t0 };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(lock, { recursive: true, force: true });
  }
}

/** A lock older than this is a builder that died: take it over. */
const STALE_LOCK_MS = 120_000;

/**
 * true: we hold the lock and must build. false: another process built the tree while we waited.
 * mkdir is atomic, so exactly one process creates the lock directory.
 */
function takeLock(lock: string, manifestPath: string): boolean {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    if (existsSync(manifestPath)) return false;
    try {
      mkdirSync(lock);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    try {
      if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
    } catch {
      // Released between the two calls: try again.
    }
    Atomics.wait(nap, 0, 0, 100);
  }
}

/** Removes builds of older sources that nothing has touched for an hour (a campaign may still use a recent one). */
function pruneOld(cacheDir: string, keep: string): void {
  const hourAgo = Date.now() - 3_600_000;
  for (const n of readdirSync(cacheDir)) {
    const p = join(cacheDir, n);
    if (p === keep || !n.startsWith('instrumented-') || n.endsWith('.lock')) continue;
    try {
      if (statSync(p).mtimeMs < hourAgo) rmSync(p, { recursive: true, force: true });
    } catch {
      // Gone already, or not ours to remove: the cache is only a cache.
    }
  }
}
