import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCampaign } from './campaign';
import { campaignReport } from './report';

test('the report holds the figures, the coverage plot and each finding with its scenario', () => {
  const stats = runCampaign({ seed: 1, runs: 60, platform: 'no-iommu-32bit', faults: ['swiotlb-skip-map-copy'] });
  assert.ok(stats.findings.length > 0);
  const html = campaignReport(stats, { seed: 1 });
  assert.match(html, /^<!doctype html>/);
  assert.match(html, new RegExp(`<td>executions</td><td>${stats.execs} `));
  assert.match(html, /<svg [^>]*aria-label="coverage over time"/);
  assert.match(html, /<path d="M [^"]+ H [^"]+"/);
  assert.ok(html.includes(stats.findings[0].failure.key.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')));
  assert.match(html, /Scenario: SWIOTLB-BOUNCE-FILLED after dma_map/);
  assert.doesNotMatch(html, /<script/);
});
