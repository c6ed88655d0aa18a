#!/usr/bin/env bash
# Smoke check: each smoke/*.json op list (concrete values, no handles) runs
# through the reference model (`npx dmaspec replay`) and through
# build/linux-iova; every result line must agree. Compared as the harness
# does: values, not spellings; for ops in the hello's "fields", only those
# fields; warnings by code and source (messages are free text).
# Then the error-path check: iova_domain_init_rcaches() with a magazine
# allocation failing at several points must answer -ENOMEM, not crash, leak nothing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
prog="$here/build/linux-iova"
[[ -x "$prog" ]] || { echo "smoke.sh: $prog missing: run $here/build.sh first" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

fail=0
for seq in "$here"/smoke/*.json; do
  name="$(basename "$seq")"
  (cd "$root" && npx --no-install dmaspec replay "$seq" 2>"$tmp/model.err" >"$tmp/model.out") || {
    echo "smoke.sh: $name: the model refused it:" >&2; cat "$tmp/model.err" >&2; fail=1; continue; }
  node -e 'for (const op of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))) console.log(JSON.stringify(op))' "$seq" \
    | "$prog" >"$tmp/impl.out" 2>"$tmp/impl.err" || { echo "smoke.sh: $name: linux-iova exited with $?" >&2; fail=1; continue; }
  if node - "$tmp/model.out" "$tmp/impl.out" "$seq" <<'JS'
const fs = require('fs');
const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const [model, implAll, ops] = [lines(process.argv[2]), lines(process.argv[3]), JSON.parse(fs.readFileSync(process.argv[4], 'utf8'))];
const hello = implAll[0].hello;
if (!hello || hello.protocol !== 1) { console.error('no protocol-1 hello'); process.exit(1); }
const impl = implAll.slice(1);
// Values, not spellings: numbers and "0x…"/decimal strings compare as integers.
const norm = (v) => (typeof v === 'number' || (typeof v === 'string' && /^(0x[0-9a-f]+|[0-9]+)$/i.test(v)) ? BigInt(v).toString() : JSON.stringify(v));
let bad = 0;
if (impl.length !== model.length) { console.error(`${impl.length} results from linux-iova, ${model.length} from the model`); bad++; }
for (let i = 0; i < Math.min(impl.length, model.length); i++) {
  const m = model[i], r = impl[i], fields = hello.fields?.[ops[i].op];
  const keys = new Set([...Object.keys(m), ...Object.keys(r)].filter((k) => k !== 'warnings' && (!fields || ['ok', 'error'].includes(k) || fields.includes(k))));
  const diffs = [...keys].filter((k) => norm(m[k]) !== norm(r[k])).map((k) => `${k}: model ${JSON.stringify(m[k])}, linux ${JSON.stringify(r[k])}`);
  const w = (x) => JSON.stringify((x.warnings ?? []).map((w) => `${w.source}:${w.code}`));
  const short = (s) => (s.length > 300 ? `${s.slice(0, 300)}… (${JSON.parse(s).length} in all)` : s);
  if (w(m) !== w(r)) diffs.push(`warnings: model ${short(w(m))}, linux ${short(w(r))}`);
  if (diffs.length) { bad++; console.error(`op[${i}] ${JSON.stringify(ops[i])}\n  ${diffs.join('\n  ')}`); }
}
process.exit(bad ? 1 : 0);
JS
  then echo "smoke.sh: $name: $(wc -l <"$tmp/model.out") results agree"
  else echo "smoke.sh: $name: DIFFERS (above)" >&2; fail=1; fi
done

# The 6.12.117 error path: a failed magazine allocation in iova_domain_init_rcaches()
# unwinds through free_iova_rcaches(), which frees the NULL magazine too.
# With 2 CPUs a domain allocates 24 magazines: try the first, a middle and the last.
for n in 1 4 24; do
  out="$(printf '%s\n' '{"op":"platform","ncpus":2}' '{"op":"init_iova_domain","name":"d","granule":"4K","start_pfn":1}' \
           '{"op":"init_iova_domain","name":"d","granule":"4K","start_pfn":1}' '{"op":"alloc_iova_fast","domain":"d","size":1,"limit_pfn":"0xfffff"}' \
         | LINUX_IOVA_FAIL="iommu_iova_magazine:$n" "$prog" 2>/dev/null | tail -n +2)" || { echo "smoke.sh: init failure at magazine $n: crashed" >&2; fail=1; continue; }
  want='{"ok":true}
{"ok":false,"error":"-ENOMEM","warnings":[{"code":"SHIM-KMEM-CACHE-FREE-NULL"'
  if [[ "$out" != "$want"* ]] || grep -q 'error path left' <<<"$out" || [[ "$(sed -n 3p <<<"$out")" != '{"ok":true}' ]]; then
    echo "smoke.sh: init failure at magazine $n: unexpected results:" >&2; echo "$out" >&2; fail=1
  else
    echo "smoke.sh: init failure at magazine $n: -ENOMEM, NULL magazine free reported, nothing leaked, domain usable after a retry"
  fi
done
exit $fail
