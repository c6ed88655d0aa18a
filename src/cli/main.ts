/**
 * dmaspec command line. Wiring only: every command is a small module.
 *
 *   dmaspec                 the main job: every feature plus the corpus, with a summary
 *   dmaspec replay FILE     one JSON result per line; exit 1 if an invariant fails
 *   dmaspec explain FILE    the op list as a Gherkin scenario
 */
import { check } from './check';
import { explainFile, replayFile } from './files';
import { fuzz } from './fuzz';

const USAGE = `usage:
  dmaspec [check [PATH...]] run every feature (or those under PATH) and replay corpus/
  dmaspec replay FILE.json replay an op list; one JSON result per line
  dmaspec explain FILE.json print an op list as a Gherkin scenario
  dmaspec fuzz [--time 60s] [--runs N] [--seed S] [--platform mix|random|NAME|FILE.json]
               [--corpus DIR] [--out DIR]   a fuzz campaign; findings as JSON + .feature
`;

export async function main(argv: readonly string[]): Promise<number> {
  const [cmd = 'check', ...rest] = argv;
  switch (cmd) {
    case 'check':
      return check(rest);
    case 'fuzz':
      return fuzz(rest);
    case 'replay':
      return rest.length === 1 ? replayFile(rest[0]) : usage();
    case 'explain':
      return rest.length === 1 ? explainFile(rest[0]) : usage();
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      return usage(`unknown command "${cmd}"`);
  }
}

function usage(msg?: string): number {
  if (msg) process.stderr.write(`dmaspec: ${msg}\n`);
  process.stderr.write(USAGE);
  return 2;
}
