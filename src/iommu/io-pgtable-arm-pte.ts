/**
 * ARM LPAE iopte encoding and geometry (drivers/iommu/io-pgtable-arm.c 6.12:
 * arm_lpae_restrict_pgsizes, arm_lpae_alloc_pgtable, arm_lpae_prot_to_pte,
 * paddr_to_iopte; iommu.md §5.1, §5.2, §5.4). Pure functions and constants; the
 * tables themselves are in io-pgtable-arm.ts.
 */
import { IOMMU_CACHE, IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_PRIV, IOMMU_READ, IOMMU_WRITE, type LeafPerms, type PgtableLeaf } from './io-pgtable';

export const ARM_LPAE_MAX_ADDR_BITS = 52;
export const ARM_LPAE_MAX_LEVELS = 4;
/** log2(sizeof(arm_lpae_iopte)): the term ARM_LPAE_LVL_SHIFT adds. */
export const IOPTE_SHIFT = 3;

export const SZ_4K = 1n << 12n;
export const SZ_16K = 1n << 14n;
export const SZ_64K = 1n << 16n;
export const SZ_2M = 1n << 21n;
export const SZ_32M = 1n << 25n;
export const SZ_512M = 1n << 29n;
export const SZ_1G = 1n << 30n;
export const SZ_4T = 1n << 42n;

/* iopte bits (iommu.md §5.2, §5.4) */
export const ARM_LPAE_PTE_TYPE_BLOCK = 1n;
export const ARM_LPAE_PTE_TYPE_PAGE = 3n;
export const ARM_LPAE_PTE_ADDR_MASK = ((1n << 48n) - 1n) & ~0xfffn;
export const ARM_LPAE_PTE_XN = 3n << 53n;
export const ARM_LPAE_PTE_DBM = 1n << 51n;
/** iopte_prot(): what a split copies from the block (the contiguous bit ignored). */
export const ARM_LPAE_PTE_ATTR_MASK = (0x3ffn << 2n) | ARM_LPAE_PTE_XN | ARM_LPAE_PTE_DBM;
export const ARM_LPAE_PTE_AF = 1n << 10n;
export const ARM_LPAE_PTE_SH_OS = 2n << 8n;
export const ARM_LPAE_PTE_SH_IS = 3n << 8n;
export const ARM_LPAE_PTE_AP_UNPRIV = 1n << 6n;
export const ARM_LPAE_PTE_AP_RDONLY = 1n << 7n;
export const ARM_LPAE_PTE_nG = 1n << 11n;
export const ARM_LPAE_PTE_ATTRINDX_SHIFT = 2n;
export const ARM_LPAE_MAIR_ATTR_IDX_CACHE = 1n;
export const ARM_LPAE_MAIR_ATTR_IDX_DEV = 2n;

export type LinuxVersion = '6.12' | 'newest';

/** Stage 1 cannot say write-only: every valid leaf is readable (iommu.md §5.4). */
const PERMS_RO: LeafPerms = Object.freeze({ read: true, write: false });
const PERMS_RW: LeafPerms = Object.freeze({ read: true, write: true });

/** A leaf entry (a level-3 page or a level-1/2 block), as stored and as handed to checkers. */
export interface ArmLpaeLeaf extends PgtableLeaf {
  readonly kind: 'leaf';
  /** Derived from the AP[2] bit this leaf carries (I-P5). */
  readonly perms: LeafPerms;
  /** The iopte the kernel would write: attributes | output address | type bits. */
  readonly pte: bigint;
}

/** Geometry after arm_lpae_restrict_pgsizes and arm_lpae_alloc_pgtable. */
export interface ArmLpaeGeometry {
  readonly pgsize_bitmap: bigint;
  readonly ias: number;
  readonly oas: number;
  readonly granule: bigint;
  readonly bits_per_level: number;
  readonly start_level: number;
  readonly pgd_bits: number;
}

const fls = (x: bigint): number => x.toString(2).length - 1;
const ffs = (x: bigint): number => fls(x & -x);

/**
 * arm_lpae_restrict_pgsizes() + arm_lpae_alloc_pgtable() + the stage-1 OAS check.
 * @pgsize_bitmap: the driver's sizes; @ias, @oas: address sizes; @page_size: CPU PAGE_SIZE.
 * The granule is PAGE_SIZE if offered, else the largest size below it, else the smallest
 * above; the bitmap is then cut to that granule's leaf sizes and ias/oas to 48 bits (52 for
 * 64K). Returns undefined where the kernel returns NULL (no usable granule, or an OAS
 * the stage-1 TCR cannot encode). iommu.md §5.1.
 */
export function arm_lpae_geometry(cfg: { pgsize_bitmap: bigint; ias: number; oas: number; page_size: number }): ArmLpaeGeometry | undefined {
  const PAGE_SIZE = BigInt(cfg.page_size);
  const below = cfg.pgsize_bitmap & (PAGE_SIZE - 1n);
  const above = cfg.pgsize_bitmap & ~(PAGE_SIZE - 1n);
  let granule = 0n;
  if (cfg.pgsize_bitmap & PAGE_SIZE) granule = PAGE_SIZE;
  else if (below) granule = 1n << BigInt(fls(below));
  else if (above) granule = 1n << BigInt(ffs(above));
  let max_addr_bits = 48;
  let page_sizes = 0n;
  if (granule === SZ_4K) page_sizes = SZ_4K | SZ_2M | SZ_1G;
  else if (granule === SZ_16K) page_sizes = SZ_16K | SZ_32M;
  else if (granule === SZ_64K) {
    max_addr_bits = 52;
    page_sizes = SZ_64K | SZ_512M | (cfg.oas > 48 ? SZ_4T : 0n);
  }
  const pgsize_bitmap = cfg.pgsize_bitmap & page_sizes;
  const ias = Math.min(cfg.ias, max_addr_bits);
  const oas = Math.min(cfg.oas, max_addr_bits);
  if (!(pgsize_bitmap & (SZ_4K | SZ_16K | SZ_64K))) return undefined;
  if (ias > ARM_LPAE_MAX_ADDR_BITS || oas > ARM_LPAE_MAX_ADDR_BITS) return undefined;
  // arm_64_lpae_alloc_pgtable_s1: TCR.IPS has encodings for these sizes only.
  if (![32, 36, 40, 42, 44, 48, 52].includes(oas)) return undefined;
  const pg_shift = ffs(pgsize_bitmap);
  const bits_per_level = pg_shift - IOPTE_SHIFT;
  const va_bits = ias - pg_shift;
  const levels = Math.ceil(va_bits / bits_per_level);
  if (levels < 1 || levels > ARM_LPAE_MAX_LEVELS) return undefined; // model: the kernel does not check; no SMMU asks for this
  const start_level = ARM_LPAE_MAX_LEVELS - levels;
  const pgd_bits = va_bits - bits_per_level * (levels - 1);
  return { pgsize_bitmap, ias, oas, granule: 1n << BigInt(pg_shift), bits_per_level, start_level, pgd_bits };
}

/**
 * arm_lpae_prot_to_pte() for ARM_64_LPAE_S1 without quirks: the attribute bits of a leaf.
 * READ without WRITE sets AP[2] (read-only); WRITE alone stays writable and readable.
 * iommu.md §5.4.
 */
export function arm_lpae_prot_to_pte(prot: number): bigint {
  let pte = ARM_LPAE_PTE_nG;
  if (!(prot & IOMMU_WRITE) && prot & IOMMU_READ) pte |= ARM_LPAE_PTE_AP_RDONLY;
  if (!(prot & IOMMU_PRIV)) pte |= ARM_LPAE_PTE_AP_UNPRIV;
  if (prot & IOMMU_MMIO) pte |= ARM_LPAE_MAIR_ATTR_IDX_DEV << ARM_LPAE_PTE_ATTRINDX_SHIFT;
  else if (prot & IOMMU_CACHE) pte |= ARM_LPAE_MAIR_ATTR_IDX_CACHE << ARM_LPAE_PTE_ATTRINDX_SHIFT;
  pte |= prot & IOMMU_CACHE ? ARM_LPAE_PTE_SH_IS : ARM_LPAE_PTE_SH_OS;
  if (prot & IOMMU_NOEXEC) pte |= ARM_LPAE_PTE_XN;
  return pte | ARM_LPAE_PTE_AF;
}

/**
 * What a stage-1 leaf lets an unprivileged device do: read always, write unless AP[2].
 * model: AP[1] (PRIV) and XN are not checked; device DMA is unprivileged data access.
 */
export const arm_lpae_s1_perms = (pte: bigint): LeafPerms => (pte & ARM_LPAE_PTE_AP_RDONLY ? PERMS_RO : PERMS_RW);

/** paddr_to_iopte(): the output-address bits; 64K granules pack bits 51:48 into 15:12. */
export const paddr_to_iopte = (pa: bigint, granule: bigint): bigint =>
  (granule < SZ_64K ? pa : pa | (pa >> 36n)) & ARM_LPAE_PTE_ADDR_MASK;

/** iopte_to_paddr(): the inverse, for a value holding only address bits. */
export const iopte_to_paddr = (addr: bigint, granule: bigint): bigint =>
  granule < SZ_64K ? addr : (addr | (addr << 36n)) & (ARM_LPAE_PTE_ADDR_MASK << 4n);
