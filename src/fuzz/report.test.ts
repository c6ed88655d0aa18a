import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyStats, runCampaign } from './campaign';
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

test('with code coverage the report gives edges reached of the instrumented total, the mode and the workers', () => {
  const stats = { ...emptyStats(8000, 2), execs: 10, edges: 4000, features: 9000 };
  const html = campaignReport(stats, { seed: 1, coverage: 'both' });
  assert.match(html, /<td>code edges reached<\/td><td>4000 of 8000 \(50\.0%\)<\/td>/);
  assert.match(html, /<td>coverage feedback<\/td><td>both<\/td>/);
  assert.match(html, /<td>workers<\/td><td>2<\/td>/);
  const modelOnly = campaignReport({ ...emptyStats(), execs: 10 }, { seed: 1, coverage: 'model' });
  assert.doesNotMatch(modelOnly, /code edges reached|<td>workers<\/td>/);
});
