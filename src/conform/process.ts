/**
 * An implementation that is a program speaking the JSON-lines protocol on stdin/stdout (stderr is its
 * own: the last few KiB are kept for reports). Each op waits at most timeoutMs for its answer; a
 * program that exits (crash), stays silent (hang) or writes something that is no JSON (garbage)
 * fails the op with an ImplFault and is killed, and start() runs it afresh.
 *
 * The program runs in its own process group, so killing it also kills what it started (npx, a shell).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ImplFault, type Hello, type Implementation, type WireOp } from './implementation';
import { parseHello } from './wire';

const STDERR_KEEP = 4096;

export interface ProcessOptions {
  /** Per-op answer timeout. */
  readonly timeoutMs: number;
  /** How long to wait for the hello line (a program may be slow to start). Default max(10 s, timeoutMs). */
  readonly helloTimeoutMs?: number;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * splitCommand - a command line as argv, with leading NAME=value environment assignments split off.
 * Single and double quotes group words; a backslash escapes the next character. No other shell syntax.
 */
export function splitCommand(cmd: string): { env: Record<string, string>; argv: string[] } {
  const words: string[] = [];
  let cur: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < cmd.length) cur += cmd[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur ??= '';
    } else if (c === '\\' && i + 1 < cmd.length) cur = (cur ?? '') + cmd[++i];
    else if (/\s/.test(c)) {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else cur = (cur ?? '') + c;
  }
  if (quote) throw new Error(`--impl: unclosed ${quote} in "${cmd}"`);
  if (cur !== undefined) words.push(cur);
  const env: Record<string, string> = {};
  while (words.length && /^[A-Za-z_]\w*=/.test(words[0]!)) {
    const w = words.shift()!;
    env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
  }
  if (!words.length) throw new Error(`--impl: no command in "${cmd}"`);
  return { env, argv: words };
}

const live = new Set<ChildProcess>();
let exitHook = false;
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

export class ProcessImplementation implements Implementation {
  private child: ChildProcess | undefined;
  private buf = '';
  private lines: string[] = [];
  private waiter: { resolve: (l: string) => void; reject: (e: ImplFault) => void } | undefined;
  private ended: string | undefined;
  private stderr = '';
  /** Names in the last hello's ops that are no op of the table. */
  unknownOps: readonly string[] = [];

  constructor(private readonly command: string, private readonly opts: ProcessOptions) {
    splitCommand(command); // a malformed command line fails here, not at the first start
  }

  stderrTail(): string {
    return this.stderr;
  }

  async start(): Promise<Hello> {
    await this.kill();
    const { env, argv } = splitCommand(this.command);
    this.buf = '';
    this.lines = [];
    this.ended = undefined;
    this.stderr = '';
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: this.opts.cwd, env: { ...(this.opts.env ?? process.env), ...env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true,
    });
    this.child = child;
    live.add(child);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => live.forEach(killGroup));
    }
    child.stdin!.on('error', () => undefined); // EPIPE after a crash: 'close' reports it
    child.stdout!.setEncoding('utf8').on('data', (s: string) => this.onData(child, s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      if (this.child === child) this.stderr = (this.stderr + s).slice(-STDERR_KEEP);
    });
    child.on('error', (e) => this.onEnd(child, `could not run "${argv[0]}": ${e.message}`));
    child.on('close', (code, signal) => {
      live.delete(child);
      this.onEnd(child, signal ? `was killed by ${signal}` : `exited with status ${code}`);
    });
    const line = await this.nextLine(this.opts.helloTimeoutMs ?? Math.max(10_000, this.opts.timeoutMs), 'its hello');
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      await this.kill();
      throw new ImplFault('hello', `the first line is no JSON hello: ${line.slice(0, 120)}`, this.stderr);
    }
    try {
      const parsed = parseHello(raw);
      this.unknownOps = parsed.unknownOps;
      return parsed.hello;
    } catch (e) {
      await this.kill();
      throw e;
    }
  }

  async execute(op: WireOp): Promise<unknown> {
    const child = this.child;
    if (!child || this.ended !== undefined) throw new ImplFault('crash', `is not running (${this.ended ?? 'not started'})`, this.stderr);
    if (this.lines.length) {
      const extra = this.lines.splice(0);
      await this.kill();
      throw new ImplFault('garbage', `wrote ${extra.length} line(s) more than one answer before ${op.op}: ${extra[0]!.slice(0, 120)}`, this.stderr);
    }
    child.stdin!.write(JSON.stringify(op) + '\n');
    const line = await this.nextLine(this.opts.timeoutMs, `an answer to ${op.op}`);
    try {
      return JSON.parse(line);
    } catch {
      await this.kill();
      throw new ImplFault('garbage', `answered ${op.op} with a line that is no JSON: ${line.slice(0, 120)}`, this.stderr);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.stdin!.end();
    if (this.ended === undefined) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          killGroup(child);
          resolve();
        }, 1000);
        child.once('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.child = undefined;
  }

  private async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
      killGroup(child);
      await closed;
    }
  }

  private onData(child: ChildProcess, s: string): void {
    if (this.child !== child) return;
    this.buf += s;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (line === '') continue;
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve(line);
      } else this.lines.push(line);
    }
  }

  private onEnd(child: ChildProcess, why: string): void {
    if (this.child !== child || this.ended !== undefined) return;
    this.ended = why;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.reject(new ImplFault('crash', why, this.stderr));
    }
  }

  private nextLine(timeoutMs: number, what: string): Promise<string> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended !== undefined) return Promise.reject(new ImplFault('crash', `${this.ended} before ${what}`, this.stderr));
    return new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        void this.kill().then(() => reject(new ImplFault('hang', `gave no ${what} within ${timeoutMs} ms`, this.stderr)));
      }, timeoutMs);
      this.waiter = {
        resolve: (l) => { clearTimeout(t); resolve(l); },
        reject: (e) => { clearTimeout(t); reject(new ImplFault(e.kind, `${e.message} before ${what}`, e.stderr)); },
      };
    });
  }
}
