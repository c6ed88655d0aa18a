/**
 * dmaspec command line. Wiring only: every command is a small module, loaded when it runs (so
 * `dmaspec serve`, started once per implementation restart, does not load the fuzzer or cucumber).
 *
 *   dmaspec                 the main job: every feature plus the corpus, with a summary
 *   dmaspec replay FILE     one JSON result per line; exit 1 if an invariant fails, 2 on bad input, 3 if the model crashed
 *   dmaspec explain FILE    the op list as a Gherkin scenario
 *   dmaspec serve           the reference model behind the conformance protocol
 *   dmaspec conform --impl  another implementation checked against the reference
 */
/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading, typed through typeof import() */
const commands = {
  check: () => require('./check') as typeof import('./check'),
  files: () => require('./files') as typeof import('./files'),
  fuzz: () => require('./fuzz') as typeof import('./fuzz'),
  bytes: () => require('./bytes') as typeof import('./bytes'),
  serve: () => require('./serve') as typeof import('./serve'),
  conform: () => require('./conform') as typeof import('./conform'),
};

const usageText = (): string => `usage:
  dmaspec [check [PATH...]] run every feature (or those under PATH) and replay corpus/
  dmaspec replay FILE.json replay an op list; one JSON result per line
  dmaspec explain FILE.json print an op list as a Gherkin scenario
  dmaspec fuzz [--time 60s] [--runs N] [--seed S] [--platform mix|random|NAME|FILE.json]
               [--corpus DIR] [--out DIR] [--workers N] [--coverage model|code|both]
                           a fuzz campaign; findings as JSON + .feature
${commands.bytes().BYTES_USAGE}${commands.conform().CONFORM_USAGE}`;

export async function main(argv: readonly string[]): Promise<number> {
  const [cmd = 'check', ...rest] = argv;
  switch (cmd) {
    case 'check':
      return commands.check().check(rest);
    case 'fuzz':
      return commands.fuzz().fuzz(rest);
    case 'serve':
      return commands.serve().serve(rest);
    case 'conform':
      return commands.conform().conform(rest);
    case 'bytes':
      return commands.bytes().bytesCommand(rest);
    case 'replay':
      return rest.length === 1 ? commands.files().replayFile(rest[0]) : usage();
    case 'explain':
      return rest.length === 1 ? commands.files().explainFile(rest[0]) : usage();
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usageText());
      return 0;
    default:
      return usage(`unknown command "${cmd}"`);
  }
}

function usage(msg?: string): number {
  if (msg) process.stderr.write(`dmaspec: ${msg}\n`);
  process.stderr.write(usageText());
  return 2;
}
