/** Handlers of the IOVA-based two-step API ops (iommu.md §3.11). */
import { ConfigError, type Platform } from '../platform';
import {
  DMA_IOVA_USE_SWIOTLB, dma_iova_destroy, dma_iova_free, dma_iova_link, dma_iova_size, dma_iova_sync, dma_iova_try_alloc,
  dma_iova_unlink, dma_use_iova, newIovaState, type DmaIovaState,
} from '../iommu/dma-iova';
import type { DmaDomain } from '../iommu/iommu-devices';
import type { Device } from '../dma/types';
import { dma_get_mask } from '../dma/mapping';
import type { OpOf } from '../ops/types';
import type { Resolved } from './handles';
import type { Outcome } from './dispatch';

export type IovaApiOpName =
  | 'dma_iova_try_alloc' | 'dma_use_iova' | 'dma_iova_size' | 'dma_iova_link' | 'dma_iova_sync'
  | 'dma_iova_unlink' | 'dma_iova_destroy' | 'dma_iova_free';

type Handler<N extends IovaApiOpName> = (p: Platform, op: Resolved<OpOf<N>>) => Outcome;

const OK: Outcome = { ok: true, values: {} };
const ERRNO: Record<number, string> = { [-1]: '-EPERM', [-5]: '-EIO', [-12]: '-ENOMEM', [-17]: '-EEXIST', [-22]: '-EINVAL', [-34]: '-ERANGE', [-95]: '-EOPNOTSUPP' };
const rc = (r: number): Outcome => (r === 0 ? OK : { ok: false, error: ERRNO[r] ?? String(r) });

function newest(p: Platform): void {
  if (p.linux === '6.12') throw new ConfigError('op', 'the IOVA-based DMA API arrived in Linux 6.16; it does not exist in 6.12 (platform linux newest)');
}

function device(p: Platform, name: string): Device {
  const d = p.devices.get(name);
  if (!d) throw new ConfigError('dev', `no device "${name}" (add it with device_add)`);
  return d;
}

function state(p: Platform, name: string): DmaIovaState {
  const s = p.iova_states.get(name);
  if (!s) throw new ConfigError('state', `no dma_iova_state "${name}" (dma_iova_try_alloc creates it)`);
  return s;
}

/**
 * The device's DMA domain for a state that try_alloc set up. A state that never
 * got IOVA is misuse the kernel does not check (it would link at address 0 + offset).
 */
function linked(p: Platform, dev: Device, s: DmaIovaState, what: string): DmaDomain | undefined {
  if (!dma_use_iova(s) || !p.iommu.usesDmaIommu(dev)) {
    p.warn.warn('contract', 'CONTRACT_IOVA_NOT_ALLOCATED', `${what} on a state with no IOVA (dma_iova_try_alloc returned false or was not called): use the streaming API instead`, dev.name);
    return undefined;
  }
  return p.iommu.domainOf(dev);
}

export const IOVA_API_HANDLERS: { [N in IovaApiOpName]: Handler<N> } = {
  dma_iova_try_alloc: (p, op) => {
    newest(p);
    const dev = device(p, op.dev);
    let s = p.iova_states.get(op.state);
    if (!s) p.iova_states.set(op.state, (s = newIovaState()));
    const d = p.iommu.usesDmaIommu(dev) ? p.iommu.domainOf(dev) : undefined;
    const ok = dma_iova_try_alloc(p, dev, d, s, op.phys, op.size, dma_get_mask(dev));
    return { ok: true, values: { value: ok, addr: s.addr } };
  },
  dma_use_iova: (p, op) => (newest(p), { ok: true, values: { value: dma_use_iova(state(p, op.state)) } }),
  dma_iova_size: (p, op) => {
    newest(p);
    const s = state(p, op.state);
    return { ok: true, values: { size: dma_iova_size(s), use_swiotlb: (s.__size & DMA_IOVA_USE_SWIOTLB) !== 0n } };
  },
  dma_iova_link: (p, op) => {
    newest(p);
    const dev = device(p, op.dev);
    const s = state(p, op.state);
    const d = linked(p, dev, s, 'dma_iova_link');
    return d ? rc(dma_iova_link(p, dev, d, s, op.phys, op.offset, op.size, op.dir, op.attrs ?? 0, p.linux)) : rc(-22);
  },
  dma_iova_sync: (p, op) => {
    newest(p);
    const dev = device(p, op.dev);
    const s = state(p, op.state);
    const d = linked(p, dev, s, 'dma_iova_sync');
    return d ? rc(dma_iova_sync(p, dev, d, s, op.offset, op.size)) : rc(-22);
  },
  dma_iova_unlink: (p, op) => {
    newest(p);
    const dev = device(p, op.dev);
    const s = state(p, op.state);
    const d = linked(p, dev, s, 'dma_iova_unlink');
    if (d) dma_iova_unlink(p, dev, d, s, op.offset, op.size, op.dir, op.attrs ?? 0);
    return OK;
  },
  dma_iova_destroy: (p, op) => {
    newest(p);
    const dev = device(p, op.dev);
    const s = state(p, op.state);
    const d = linked(p, dev, s, 'dma_iova_destroy');
    if (d) dma_iova_destroy(p, dev, d, s, op.mapped_len, op.dir, op.attrs ?? 0);
    return OK;
  },
  dma_iova_free: (p, op) => {
    newest(p);
    const dev = device(p, op.dev);
    const s = state(p, op.state);
    const d = linked(p, dev, s, 'dma_iova_free');
    if (d) dma_iova_free(p, dev, d, s);
    return OK;
  },
};
