import { Engine } from './src/engine/engine';
import { parseStep } from './src/ops/gherkin';
const steps = [
  'a platform with ram [{base 0x0, size 4G}] swiotlb {size 64M}',
  'the kernel calls iommu_add with name smmu mode ' + (process.argv[2] ?? 'strict'),
  'a device "d" with iommu smmu dma_mask DMA_BIT_MASK(64)',
  '"d" calls dma_pool_create with name p size 64',
  'the kernel calls dma_pool_alloc with pool p as b',
  'the kernel calls dma_pool_free with pool p cpu_addr $b.cpu_addr dma_addr $b',
  'the kernel calls dma_pool_destroy with pool p',
];
const e = new Engine();
for (const s of steps) { const o = e.execute(parseStep(s)!); console.log(s, '=>', o.result.ok ? 'ok' : o.result.error, o.violations.map(v => v.id + ': ' + v.message)); }
