/**
 * The bytes of an op's data argument ({hex} / {len, seed} / {len, fill}), made once per op object:
 * the model's cpu_write / device_write and the data checkers' shadows all read them, and a
 * {len, seed} pattern of 64 KiB costs as much to make as the write itself. Read-only for every
 * user: the model copies them into memory and caches, the shadows into their own pages.
 */
import { byteSpecToBytes, type ByteSpec } from '../ops/dma-kinds';

const made = new WeakMap<ByteSpec, Uint8Array>();

export function specBytes(spec: ByteSpec): Uint8Array {
  let b = made.get(spec);
  if (b === undefined) made.set(spec, (b = byteSpecToBytes(spec)));
  return b;
}
