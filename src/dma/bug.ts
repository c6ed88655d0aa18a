/**
 * A kernel BUG/oops the driver's input causes (BUG_ON on an invalid direction,
 * cache maintenance on an address that is no memory). Reported as an op
 * failure `BUG` with a warning naming why — not a crash of the model, which
 * would be our own bug.
 */
export class KernelBug extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'KernelBug';
  }
}
