import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isModulePath, loadModule } from './module';

const dir = mkdtempSync(join(tmpdir(), 'conform-module-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('MODULE implementations', () => {
  it('an existing .ts/.js file is a module; anything else is a command', () => {
    assert.ok(isModulePath(join(__dirname, 'fixtures', 'model-module.ts')));
    assert.ok(!isModulePath('node bin/dmaspec.js serve'));
    assert.ok(!isModulePath(join(__dirname, 'fixtures', 'missing.ts')));
  });

  it('loads createImplementation() and runs it', async () => {
    const impl = await loadModule(join(__dirname, 'fixtures', 'model-module.ts'));
    const hello = await impl.start();
    assert.equal(hello.protocol, 1);
    assert.deepEqual(await impl.execute({ op: 'platform' }), { ok: true });
  });

  it('a module exporting no implementation is refused, saying what to export', async () => {
    const f = join(dir, 'empty.js');
    writeFileSync(f, 'module.exports = { hello: 1 };\n');
    await assert.rejects(loadModule(f), /export createImplementation\(\)/);
  });
});
