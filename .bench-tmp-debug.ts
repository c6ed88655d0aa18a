import { DmaDebug } from './src/dma/debug';
import { WarnSink } from './src/warn';
import type { Device } from './src/dma/types';
const mk = (name: string): Device => ({ name, bus: 'pci', dma_mask: (1n << 64n) - 1n, coherent_dma_mask: (1n << 64n) - 1n, bus_dma_limit: 0n, dma_range_map: null, dma_coherent: true, dma_skip_sync: false, min_align_mask: 0n, max_segment_size: 65536n, segment_boundary_mask: 0xffffffffn, force_bounce: false, iommu: null, untrusted: false });
for (const linux of ['6.12', 'newest'] as const) {
  const warn = new WarnSink();
  const d = new DmaDebug({ warn, linux, cacheline_shift: 6, bounce_unaligned_kmalloc: false });
  const dev = mk('nic');
  const N = 100000;
  for (let i = 0; i < N; i++) { const a = 0x100000000n + BigInt(i) * 0x1000n; d.debug_dma_map_phys(dev, 'linear', a, 0x800n, i & 1 ? 'DMA_FROM_DEVICE' : 'DMA_TO_DEVICE', a, 0, false); d.debug_dma_mapping_error(dev, a); }
  for (const dir of ['DMA_TO_DEVICE', 'DMA_FROM_DEVICE'] as const) {
    const R = 500000;
    const addrs: bigint[] = []; for (let i = 0; i < 1024; i++) addrs.push(0x900000000n + BigInt(i) * 0x1000n);
    const run = () => { for (let r = 0; r < R; r++) { const a = addrs[r & 1023]!; d.debug_dma_map_phys(dev, 'linear', a, 0x1000n, dir, a, 0, false); d.debug_dma_mapping_error(dev, a); d.debug_dma_unmap_phys(dev, a, 0x1000n, dir, 0); } };
    run();
    const t0 = process.hrtime.bigint(); run();
    console.log(linux, dir, 'map+check+unmap ns', (Number(process.hrtime.bigint() - t0) / R).toFixed(0));
  }
  const R = 500000;
  const t1 = process.hrtime.bigint();
  for (let r = 0; r < R; r++) { const a = 0x100000000n + BigInt(r % N) * 0x1000n; d.debug_dma_sync_single_for_cpu(dev, a + 0x100n, 0x100n, r % N & 1 ? 'DMA_FROM_DEVICE' : 'DMA_TO_DEVICE'); }
  console.log(linux, 'sync ns', (Number(process.hrtime.bigint() - t1) / R).toFixed(0));
  console.log('warnings', warn.drain().length, d.stats.error_count, d.view.self_check().slice(0, 3));
}
