import { Engine } from './src/engine/engine';
import { parseStep } from './src/ops/gherkin';
for (const iommu of ['pgsize_bitmap 0x2000', 'oas 47', 'ias 60', 'pgsize_bitmap 0x200000']) {
  const e = new Engine();
  try {
    for (const s of ['a platform with ram [{base 0x0, size 4G}]', `the kernel calls iommu_add with name smmu ${iommu}`, 'a device "d" with iommu smmu dma_mask DMA_BIT_MASK(64)', '"d" calls dma_map_phys with phys 0x1000 size 4K dir DMA_TO_DEVICE']) {
      const o = e.execute(parseStep(s)!); console.log(iommu, '|', s.slice(0, 40), '=>', o.result.ok ? 'ok' : o.result.error);
    }
  } catch (err) { console.log(iommu, 'THROWS', (err as Error).constructor.name, (err as Error).message.slice(0, 150)); }
}
