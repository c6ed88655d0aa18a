/**
 * dmaspec bytes FILE: turns a byte fuzzer's input (a jsfuzz or Jazzer.js crash file, a corpus entry)
 * back into a Gherkin scenario, through the byte target's own decoder. A failing input is minimised
 * and printed as the finding's scenario (the same text `dmaspec fuzz` saves); a passing one is
 * printed as a plain scenario. Platform and faults default to DMASPEC_PLATFORM / DMASPEC_FAULTS,
 * so the environment that ran the fuzzer decodes its crash files the same way.
 *
 *   dmaspec bytes FILE [--platform mix|random|NAME] [--faults A,B] [--json] [--no-minimize] [--out DIR]
 *
 * Exit 1 when the bytes reach a finding, 0 when they do not, 2 on bad arguments or an unreadable file.
 */
import { readFileSync } from 'node:fs';
import { replay } from '../engine/replay';
import { decode, targetConfig, type TargetConfig } from '../fuzz/byte-target';
import { formatOpList } from '../fuzz/corpus';
import { execute, failsWith } from '../fuzz/execute';
import { findingFiles, saveFinding } from '../fuzz/findings';
import { minimize } from '../fuzz/minimize';
import { printScenario } from '../ops/scenario';

interface BytesArgs {
  readonly file: string;
  readonly config: TargetConfig;
  readonly json: boolean;
  readonly minimize: boolean;
  readonly out?: string;
}

export const BYTES_USAGE = `  dmaspec bytes FILE [--platform mix|random|NAME] [--faults A,B] [--json] [--no-minimize] [--out DIR]
               decode a jsfuzz/Jazzer.js input with the byte target's decoder; print it as a scenario
`;

function parseArgs(argv: readonly string[]): BytesArgs {
  let file: string | undefined;
  const env: NodeJS.ProcessEnv = { DMASPEC_PLATFORM: process.env.DMASPEC_PLATFORM, DMASPEC_FAULTS: process.env.DMASPEC_FAULTS };
  let json = false;
  let min = true;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a}: missing value`);
      return v;
    };
    if (a === '--platform') env.DMASPEC_PLATFORM = value();
    else if (a === '--faults') env.DMASPEC_FAULTS = value();
    else if (a === '--out') out = value();
    else if (a === '--json') json = true;
    else if (a === '--no-minimize') min = false;
    else if (a.startsWith('--')) throw new Error(`unknown option "${a}"`);
    else if (file === undefined) file = a;
    else throw new Error(`one FILE only (got "${file}" and "${a}")`);
  }
  if (file === undefined) throw new Error('missing FILE (a byte fuzzer input, e.g. a jsfuzz crash-<sha256> file)');
  // The options are checked with the target's own rules, so their errors name --platform / --faults.
  let config: TargetConfig;
  try {
    config = targetConfig(env);
  } catch (e) {
    throw new Error((e as Error).message.replace(/^DMASPEC_PLATFORM/, '--platform (or DMASPEC_PLATFORM)').replace(/^DMASPEC_FAULTS/, '--faults (or DMASPEC_FAULTS)'));
  }
  return { file, config, json, minimize: min, ...(out !== undefined ? { out } : {}) };
}

export function bytesCommand(argv: readonly string[]): number {
  let args: BytesArgs;
  let data: Buffer;
  try {
    args = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`dmaspec bytes: ${(e as Error).message}\n${BYTES_USAGE}`);
    return 2;
  }
  try {
    data = readFileSync(args.file);
  } catch (e) {
    process.stderr.write(`dmaspec bytes: cannot read ${args.file}: ${(e as Error).message}\n`);
    return 2;
  }
  const { platform, faults } = args.config;
  const input = decode(data, platform);
  const o = execute(input, { faults, features: false });
  const where = `${args.file} (${data.length} bytes, platform ${platform}${faults.length ? `, faults ${faults.join(',')}` : ''})`;
  if (!o.failure) {
    process.stderr.write(o.invalid !== undefined
      ? `dmaspec bytes: ${where} decodes to ${input.length} ops that stop at an input error (${o.invalid}): a dead end, not a finding\n`
      : `dmaspec bytes: ${where} decodes to ${input.length} ops with no finding\n`);
    process.stdout.write(args.json ? formatOpList(input) : printScenario(input, replay(input, args.file).outcomes, { title: `decoded from ${args.file}` }));
    return 0;
  }
  const key = o.failure.key;
  const cut = input.slice(0, o.ran);
  const small = args.minimize ? minimize(cut, failsWith(key, { faults }), { deadlineMs: 5000 }) : cut;
  const failure = execute(small, { faults, features: false }).failure ?? o.failure;
  process.stderr.write(`dmaspec bytes: ${where}: finding ${key}; ${args.minimize ? `minimised ${cut.length} → ${small.length} ops` : `${cut.length} ops`}\n`);
  if (args.out !== undefined) for (const f of saveFinding(args.out, small, failure, { faults })) process.stderr.write(`  ${f}\n`);
  process.stdout.write(args.json ? formatOpList(findingFiles(small, failure, { faults }).ops) : findingFiles(small, failure, { faults }).feature);
  return 1;
}
