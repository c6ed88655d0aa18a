/**
 * npm test: the type check, the unit tests (node:test through tsx), every
 * feature, and the spec-coverage report (which §7 rules no scenario tags).
 * Ends with one plain line: "N passed, N failed".
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RULES } from '../src/spec/rules';
import { INVARIANTS } from '../src/invariants/registry';
import { replayCorpus } from '../src/cli/check';

const BIN = join('node_modules', '.bin');
// A directory of this run's own, so two runs at once never read each other's reports.
const TMP = mkdtempSync(join(tmpdir(), 'dmaspec-test-'));
process.on('exit', () => rmSync(TMP, { recursive: true, force: true }));

function walk(dir: string, suffix: string): string[] {
  let out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out = out.concat(walk(p, suffix));
    else if (e.name.endsWith(suffix)) out.push(p);
  }
  return out.sort();
}

function run(cmd: string, args: string[]): number {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  return r.status ?? 1;
}

let passed = 0;
let failed = 0;
const section = (title: string): void => void process.stdout.write(`\n== ${title} ==\n`);

section('type check (tsc --noEmit)');
if (run(join(BIN, 'tsc'), ['--noEmit', '-p', '.']) === 0) passed++;
else failed++;

section('generated docs match the code (docs/protocol.md, docs/rules.md)');
if (run(process.execPath, ['--import', 'tsx', 'scripts/gen-docs.ts', '--check']) === 0) passed++;
else failed++;

section('unit tests (node:test)');
const unitFiles = [...walk('src', '.test.ts'), ...walk('steps', '.test.ts'), ...walk('scripts', '.test.ts')];
const unitStatus = run(process.execPath, ['--import', 'tsx', '--import', './scripts/fc-seed.ts', '--test', '--test-reporter=dot', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${join(TMP, 'unit.tap')}`, ...unitFiles]);
const tap = readFileSync(join(TMP, 'unit.tap'), 'utf8');
const count = (key: string): number => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
passed += count('pass');
failed += count('fail') + count('cancelled');
for (const m of tap.matchAll(/^\s*not ok \d+ - (.*)$/gm)) process.stdout.write(`  FAILED: ${m[1]}\n`);
// A runner that died before its summary must not read as "0 failed".
if (unitStatus !== 0 && count('fail') + count('cancelled') === 0) {
  failed++;
  process.stdout.write(`  FAILED: the unit test runner exited with status ${unitStatus} before reporting a failure\n`);
}
process.stdout.write(`unit: ${count('pass')} passed, ${count('fail')} failed\n`);

section('features (cucumber-js)');
const cucumberJson = join(TMP, 'cucumber.json');
run(join(BIN, 'cucumber-js'), ['--format', 'progress', '--format', `json:${cucumberJson}`]);
interface CStep { keyword: string; result: { status: string } }
interface CElement { name: string; type: string; tags: { name: string }[]; steps: CStep[] }
interface CFeature { uri: string; elements: CElement[] }
let features: CFeature[] = [];
try {
  features = JSON.parse(readFileSync(cucumberJson, 'utf8')) as CFeature[];
} catch {
  failed++;
  process.stdout.write('cucumber produced no report\n');
}
let scenarioPass = 0;
let scenarioFail = 0;
const tagged = new Set<string>();
const noThen: string[] = [];
const untaggedScenarios: string[] = [];
const ruleIds = new Set(RULES.map((r) => r.id));
const invariantIds = new Set(INVARIANTS.map((f) => f.info.id));
for (const f of features) {
  for (const el of f.elements ?? []) {
    if (el.type !== 'scenario') continue;
    const ok = el.steps.every((s) => s.result.status === 'passed' || (s.keyword.trim() === '' && s.result.status === 'skipped'));
    if (ok) scenarioPass++;
    else {
      scenarioFail++;
      process.stdout.write(`  FAILED: ${f.uri}: ${el.name}\n`);
    }
    const tags = el.tags.map((t) => t.name.slice(1));
    tags.forEach((t) => tagged.add(t));
    if (!tags.some((t) => ruleIds.has(t) || invariantIds.has(t) || /^INV-|^VIS-|^BAT-|^DBG-|^I-[A-Z]+\d+$|^G-\d$/.test(t))) untaggedScenarios.push(`${f.uri}: ${el.name}`);
    if (!el.steps.some((s) => s.keyword.trim() === 'Then')) noThen.push(`${f.uri}: ${el.name}`);
  }
}
passed += scenarioPass;
failed += scenarioFail;
process.stdout.write(`features: ${scenarioPass} scenarios passed, ${scenarioFail} failed\n`);

section('corpus replay (corpus/*.json, every invariant after every op)');
const corpus = replayCorpus('corpus');
for (const c of corpus) {
  const bad = c.error !== undefined || c.violations.length > 0;
  if (bad) failed++;
  else passed++;
  if (c.error) process.stdout.write(`  FAILED (input): ${c.error}\n`);
  for (const v of c.violations) process.stdout.write(`  FAILED (invariant): ${v}\n`);
}
process.stdout.write(`corpus: ${corpus.length} files replayed, ${corpus.filter((c) => !c.error && !c.violations.length).length} clean\n`);

section('spec coverage');
// A scenario without a Then step asserts nothing: that is a defect, not a pass.
for (const s of noThen) process.stdout.write(`  NO THEN STEP (asserts nothing): ${s}\n`);
failed += noThen.length;
for (const s of untaggedScenarios) process.stdout.write(`  scenario without a rule or invariant tag: ${s}\n`);
const core = RULES.filter((r) => r.layer === 'core');
const untagged = core.filter((r) => !r.unobservable && !tagged.has(r.id));
const unobservable = core.filter((r) => r.unobservable);
process.stdout.write(`rules of dma-core.md §7 for this layer: ${core.length}; tagged ${core.length - untagged.length - unobservable.length}; unobservable (docs/rules.md) ${unobservable.length}; untagged ${untagged.length}\n`);
for (const r of untagged) process.stdout.write(`  untagged rule ${r.id}: ${r.text}\n`);
// A scenario may name an invariant by its ID or by the spec clause ID behind it (@INV-S5 for SWIOTLB-BOUNCE-FILLED).
const specIds = (clause: string): string[] => clause.match(/\b(?:INV-[A-Z]+\d+|VIS-\d|BAT-\d|DBG-\d|I-[A-Z]+\d+|G-\d)\b/g) ?? [];
const untestedInvariants = INVARIANTS.map((f) => f.info)
  .filter((i) => !tagged.has(i.id) && !specIds(i.clause).some((id) => tagged.has(id)))
  .map((i) => i.id);
if (untestedInvariants.length) process.stdout.write(`invariants no scenario tags: ${untestedInvariants.join(', ')}\n`);

process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;
