/** How byte data appears in results: hex up to 64 bytes, a digest beyond (DESIGN.md probes). */
import { createHash } from 'node:crypto';

export const DATA_HEX_LIMIT = 64;

export function formatData(bytes: Uint8Array): string {
  if (bytes.length <= DATA_HEX_LIMIT) return Buffer.from(bytes).toString('hex');
  const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  return `${bytes.length} bytes sha256:${digest}`;
}
