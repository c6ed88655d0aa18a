import { Engine } from './src/engine/engine';
import { parseStep } from './src/ops/gherkin';
const steps = [
  'a platform with ram [{base 0x0, size 4G}]',
  'the kernel calls iommu_add with name smmu',
  'a device "d" with iommu smmu dma_mask DMA_BIT_MASK(64)',
  '"d" calls dma_map_sg with sg [{phys 0x753000, length 12K}, {phys 0x756000, length 4K}, {phys 0x6f6234, length 1500}] dir DMA_FROM_DEVICE as s',
];
const e = new Engine();
for (const s of steps) { const o = e.execute(parseStep(s)!); console.log(s, '=>', o.result.ok ? JSON.stringify(o.result.values, (k, v) => typeof v === 'bigint' ? '0x' + v.toString(16) : v) : o.result.error, o.result.warnings.map(w => w.code + ': ' + w.message), o.violations.map(v => v.id)); }
