/**
 * Findings an op produces besides its return value: the kernel's own warnings
 * (WARN_ONCE, pr_err_ratelimited) and dma-debug's contract findings (dma-core.md §6.3).
 * Each has a stable upper-case code; the message is informative only.
 */

export type WarningSource = 'kernel' | 'dma-debug' | 'context' | 'contract' | 'model';

export interface Warning {
  readonly code: string;
  readonly source: WarningSource;
  readonly message: string;
  readonly dev?: string;
}

/** Collects the warnings of one op; the engine drains it after every op. */
export class WarnSink {
  private items: Warning[] = [];

  warn(source: WarningSource, code: string, message: string, dev?: string): void {
    this.items.push(dev === undefined ? { code, source, message } : { code, source, message, dev });
  }

  /** Returns and clears what was collected since the last drain. */
  drain(): Warning[] {
    const out = this.items;
    this.items = [];
    return out;
  }

  peek(): readonly Warning[] {
    return this.items;
  }
}
