/**
 * The end-of-campaign report: one self-contained HTML file (no scripts, no
 * external assets) with coverage over time as an SVG plot, the findings with
 * their reproducer scenarios, and corpus figures (code edges reached of the
 * instrumented total when the campaign had code coverage).
 */
import { printScenario } from '../ops/scenario';
import type { CampaignStats } from './campaign';

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A step plot of features over time. */
function plot(points: readonly [number, number][], width = 640, height = 240): string {
  if (points.length === 0) return '<p>No coverage was recorded.</p>';
  const tMax = Math.max(1, ...points.map((p) => p[0]));
  const fMax = Math.max(1, ...points.map((p) => p[1]));
  const x = (t: number): number => 40 + (t / tMax) * (width - 50);
  const y = (f: number): number => height - 30 - (f / fMax) * (height - 50);
  let d = `M ${x(0)} ${y(0)}`;
  for (const [t, f] of points) d += ` H ${x(t).toFixed(1)} V ${y(f).toFixed(1)}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="coverage over time">
<line x1="40" y1="${height - 30}" x2="${width - 10}" y2="${height - 30}" stroke="#888"/><line x1="40" y1="10" x2="40" y2="${height - 30}" stroke="#888"/>
<text x="${width - 10}" y="${height - 10}" text-anchor="end" font-size="11">${(tMax / 1000).toFixed(1)} s</text>
<text x="36" y="20" text-anchor="end" font-size="11">${fMax}</text>
<text x="36" y="${height - 30}" text-anchor="end" font-size="11">0</text>
<path d="${d}" fill="none" stroke="#1f6feb" stroke-width="2"/></svg>`;
}

export function campaignReport(stats: CampaignStats, opts: { seed: number; title?: string; coverage?: string }): string {
  const rate = stats.execs / Math.max(stats.elapsedMs / 1000, 0.001);
  const findings = stats.findings.map((f) => `<section><h3>${esc(f.failure.key)}</h3>
<p>${esc(f.failure.message)}</p>
<p>Found after ${f.execsToFind} executions (${(f.msToFind / 1000).toFixed(1)} s); minimised from ${f.input.length} to ${f.minimized.length} ops in ${f.minimizeMs} ms.${f.files.length ? ` Files: ${f.files.map((x) => `<code>${esc(x)}</code>`).join(', ')}.` : ''}</p>
<pre>${esc(printScenario(f.minimized, [], { title: `${f.failure.id} after ${f.minimized[f.minimized.length - 1]?.op ?? 'op'}`, tags: [f.failure.id] }))}</pre></section>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(opts.title ?? `dmaspec fuzz campaign, seed ${opts.seed}`)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}pre{background:#f6f8fa;padding:.8rem;overflow:auto}td{padding:.2rem .8rem}</style></head>
<body><h1>${esc(opts.title ?? `dmaspec fuzz campaign, seed ${opts.seed}`)}</h1>
<table><tr><td>executions</td><td>${stats.execs} (${rate.toFixed(0)}/s)</td></tr>
<tr><td>invalid inputs</td><td>${stats.invalid}</td></tr>
${opts.coverage ? `<tr><td>coverage feedback</td><td>${esc(opts.coverage)}</td></tr>\n` : ''}${stats.workers > 1 ? `<tr><td>workers</td><td>${stats.workers}</td></tr>\n` : ''}${stats.edgesTotal ? `<tr><td>code edges reached</td><td>${stats.edges} of ${stats.edgesTotal} (${((100 * stats.edges) / stats.edgesTotal).toFixed(1)}%)</td></tr>\n` : ''}<tr><td>features reached</td><td>${stats.features}</td></tr>
<tr><td>corpus entries</td><td>${stats.corpusSize}</td></tr>
<tr><td>findings</td><td>${stats.findings.length}</td></tr>
<tr><td>elapsed</td><td>${(stats.elapsedMs / 1000).toFixed(1)} s</td></tr></table>
<h2>Coverage over time</h2>
${plot(stats.coverage)}
<h2>Findings</h2>
${findings || '<p>None.</p>'}
${stats.warnings.length ? `<h2>Warnings</h2><ul>${stats.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
