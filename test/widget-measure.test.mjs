// Release manifests in the browser: cvmtrust.measure (the wasm build of
// package measure) recomputes the same launch digest as `cvmtrust measure`
// does natively, from the artifacts and from the manifest, for the demo
// release and for manifests written here from the launch-digest fixtures;
// and it refuses every kind of tampering the native command refuses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, goBinary, repoRoot, openVerifierPage, simulatedMeasurement } from './lib/browser.mjs';

const fixtures = path.join(repoRoot, 'testdata/launch-digest');
const amdSev = path.join(fixtures, 'ovmf_AmdSev_suffix.bin');
const ovmfX64 = path.join(fixtures, 'ovmf_OvmfX64_suffix.bin');
const demoManifest = path.join(repoRoot, 'measure/testdata/demo-release.json');

let browser;
let page;
let tmp;
let cli;

before(async () => {
  cli = goBinary('./cmd/cvmtrust');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-manifests-'));
  // Artifacts for measured direct boot: contents do not matter, only their digests.
  fs.writeFileSync(path.join(tmp, 'vmlinuz'), crypto.randomBytes(3000));
  fs.writeFileSync(path.join(tmp, 'initrd.img'), crypto.randomBytes(5000));
  browser = await launchBrowser();
  page = await openVerifierPage(browser);
});

after(async () => {
  await browser?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs `cvmtrust measure args`; returns { status, stdout, stderr }. */
function measure(args) {
  try {
    const stdout = execFileSync(cli, ['measure', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, stdout: stdout.toString().trim(), stderr: '' };
  } catch (err) {
    if (err.status === null || err.status === undefined) throw err;
    return { status: err.status, stdout: err.stdout.toString().trim(), stderr: err.stderr.toString().trim() };
  }
}

/** cvmtrust.measure in the page; resolves with the release or { error } when it rejects. */
function browserMeasure(manifest) {
  return page.evaluate(async (m) => {
    try {
      return await window.verifier.measure(m);
    } catch (e) {
      return { error: `${e.constructor.name}: ${e.message}` };
    }
  }, manifest);
}

const kernel = () => ['--kernel', path.join(tmp, 'vmlinuz')];
const initrd = () => ['--initrd', path.join(tmp, 'initrd.img')];

// Launch settings to write manifests for: vCPU counts up to 64, several vCPU
// types and ways of naming them, the three VMM types, both OVMF builds, and
// kernel, initrd and command line in each combination that matters.
const cases = [
  { name: 'milan-64-qemu-kernel-initrd-cmdline', args: () => ['--ovmf', amdSev, '--vcpus', '64', '--vcpu-type', 'EPYC-Milan', ...kernel(), ...initrd(), '--append', 'console=ttyS0 root=/dev/vda', '--guest-features', '0x21'] },
  { name: 'genoa-64-qemu-no-kernel', args: () => ['--ovmf', amdSev, '--vcpus', '64', '--vcpu-type', 'EPYC-Genoa'] },
  { name: 'turin-8-qemu-family-model-stepping-kernel', args: () => ['--ovmf', amdSev, '--vcpus', '8', '--vcpu-family', '26', '--vcpu-model', '2', '--vcpu-stepping', '1', ...kernel(), '--guest-features', '0x21'] },
  { name: 'rome-3-qemu-vcpu-sig-cmdline', args: () => ['--ovmf', amdSev, '--vcpus', '3', '--vcpu-sig', '0x830f10', ...kernel(), '--append', 'quiet'] },
  { name: 'epyc-16-ovmfx64', args: () => ['--ovmf', ovmfX64, '--vcpus', '16', '--vcpu-type', 'EPYC'] },
  { name: 'ec2-4-kernel-initrd', args: () => ['--ovmf', amdSev, '--vcpus', '4', '--vmm-type', 'ec2', ...kernel(), ...initrd()] },
  { name: 'ec2-64', args: () => ['--ovmf', amdSev, '--vcpus', '64', '--vmm-type', 'ec2', '--guest-features', '0x21'] },
  { name: 'gce-2', args: () => ['--ovmf', amdSev, '--vcpus', '2', '--vmm-type', 'gce'] },
  { name: 'gce-64-kernel-cmdline', args: () => ['--ovmf', amdSev, '--vcpus', '64', '--vmm-type', 'gce', ...kernel(), '--append', 'console=ttyS0'] },
];

test('the demo manifest: the same digest from the CLI, from the artifacts and in the browser', async () => {
  const fromManifest = measure(['--manifest', demoManifest]);
  assert.equal(fromManifest.status, 0, fromManifest.stderr);
  // The demo release is the AmdSev fixture with an empty kernel and initrd.
  const fromArtifacts = measure(['--ovmf', amdSev, '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--guest-features', '0x21', '--kernel', '/dev/null', '--initrd', '/dev/null']);
  assert.equal(fromArtifacts.status, 0, fromArtifacts.stderr);
  const manifest = JSON.parse(fs.readFileSync(demoManifest, 'utf8'));
  const inBrowser = await browserMeasure(manifest);
  assert.equal(inBrowser.error, undefined);
  for (const got of [fromManifest.stdout, fromArtifacts.stdout, inBrowser.measurement]) assert.equal(got, simulatedMeasurement);
  assert.equal(inBrowser.release, manifest.release);
  assert.equal(inBrowser.recomputed, true);
  assert.equal(inBrowser.ovmfHash, manifest.ovmf.snp_ovmf_hash);
  // The JSON text works as well as the parsed object.
  assert.equal((await browserMeasure(fs.readFileSync(demoManifest, 'utf8'))).measurement, simulatedMeasurement);
});

test('the demo page serves a copy of the demo manifest, byte for byte', () => {
  const served = fs.readFileSync(path.join(repoRoot, 'web/demo/release.json'));
  assert.ok(served.equals(fs.readFileSync(demoManifest)), 'web/demo/release.json differs from measure/testdata/demo-release.json: copy it again');
});

test('manifests written by cvmtrust measure: the same digest from the artifacts, the manifest and the browser', async () => {
  const digests = new Set();
  for (const c of cases) {
    const file = path.join(tmp, `${c.name}.json`);
    const written = measure([...c.args(), '--write-manifest', file, '--release', c.name, '--source-commit', '0123456789abcdef0123456789abcdef01234567']);
    assert.equal(written.status, 0, `${c.name}: ${written.stderr}`);
    assert.match(written.stdout, /^[0-9a-f]{96}$/, c.name);
    const recomputed = measure(['--manifest', file]);
    assert.equal(recomputed.status, 0, `${c.name}: ${recomputed.stderr}`);
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
    const inBrowser = await browserMeasure(manifest);
    assert.equal(inBrowser.error, undefined, `${c.name}: ${inBrowser.error}`);
    assert.equal(recomputed.stdout, written.stdout, `${c.name}: CLI from the manifest`);
    assert.equal(inBrowser.measurement, written.stdout, `${c.name}: browser`);
    assert.equal(manifest.measurement, written.stdout, `${c.name}: manifest`);
    assert.equal(inBrowser.release, c.name);
    assert.equal(inBrowser.sourceCommit, '0123456789abcdef0123456789abcdef01234567');
    digests.add(written.stdout);
  }
  assert.equal(digests.size, cases.length, 'every case has its own digest');
});

// Each tampering, what the native command says about the same manifest (exit
// status 1: the measurement does not follow; 2: unusable), and what the
// page's error says when it is not the mismatch.
const tamperings = [
  ['measurement changed', (m) => { m.measurement = flipHex(m.measurement); }, 1],
  ['kernel digest changed', (m) => { m.kernel.sha256 = flipHex(m.kernel.sha256); }, 1],
  ['initrd digest changed', (m) => { m.initrd.sha256 = flipHex(m.initrd.sha256); }, 1],
  ['OVMF hash changed', (m) => { m.ovmf.snp_ovmf_hash = flipHex(m.ovmf.snp_ovmf_hash); }, 1],
  ['a section moved', (m) => { m.ovmf.sections[0].gpa += 4096; }, 1],
  ['vCPU count changed', (m) => { m.vcpus = 63; }, 1],
  ['vCPU type changed', (m) => { m.vcpu_type = 'EPYC-Rome'; m.vcpu_sig = 0x830f10; }, 1],
  ['VMM type changed', (m) => { m.vmm_type = 'ec2'; }, 1],
  ['guest features changed', (m) => { m.guest_features = 1; }, 1],
  ['command line changed', (m) => { m.cmdline = 'console=ttyS1 root=/dev/vda'; }, 1],
  ['kernel removed', (m) => { delete m.kernel; delete m.initrd; delete m.cmdline; }, 1],
  ['unknown key', (m) => { m.trusted = true; }, 2],
  ['another format', (m) => { m.format = 'cvmtrust-launch-manifest/v2'; }, 2],
  // The CLI reads a missing measurement as zeros (a mismatch); the page calls it missing.
  ['no measurement', (m) => { delete m.measurement; }, 1, /manifest\.measurement is required/],
  ['no release name', (m) => { m.release = ''; }, 2],
  ['unknown vCPU type', (m) => { m.vcpu_type = 'EPYC-Mars'; delete m.vcpu_sig; }, 2],
  ['unknown section type', (m) => { m.ovmf.sections[0].type = 'SNP_EVERYTHING'; }, 2],
  ['no vCPUs', (m) => { m.vcpus = 0; }, 2],
  ['vCPUs not a whole number', (m) => { m.vcpus = 1.5; }, 2],
  ['digest not hex', (m) => { m.kernel.sha256 = 'zz'.repeat(32); }, 2],
];

function flipHex(h) {
  return (h[0] === '0' ? '1' : '0') + h.slice(1);
}

test('a tampered manifest is refused in the browser, as by the CLI', async () => {
  const base = JSON.parse(fs.readFileSync(path.join(tmp, 'milan-64-qemu-kernel-initrd-cmdline.json'), 'utf8'));
  for (const [what, change, cliStatus, pageError] of tamperings) {
    const m = structuredClone(base);
    change(m);
    const file = path.join(tmp, 'tampered.json');
    fs.writeFileSync(file, JSON.stringify(m));
    const native = measure(['--manifest', file]);
    assert.equal(native.status, cliStatus, `${what}: CLI exit status (${native.stderr})`);
    const got = await browserMeasure(m);
    assert.equal(got.measurement, undefined, `${what}: the browser refused it`);
    assert.match(got.error, /^Error: cvmtrust\.measure: /, what);
    if (pageError) assert.match(got.error, pageError, what);
    else if (cliStatus === 1) assert.match(got.error, /launch digest mismatch: measurement: got [0-9a-f]{96}, want [0-9a-f]{96}/, `${what}: ${got.error}`);
  }
  // Not a manifest at all.
  for (const bad of [null, 42, 'not json', '[]']) {
    const got = await browserMeasure(bad);
    assert.match(got.error ?? '', /^Error: cvmtrust\.measure: manifest/, String(bad));
  }
});

test('a manifest with more sections than the reader takes is refused without reading them all', async () => {
  const got = await page.evaluate(async (m) => {
    // Built in the page: sending it from here would take longer than the check.
    m.ovmf.sections = Array.from({ length: 100000 }, () => ({ gpa: 0, size: 4096, type: 'SNP_SEC_MEM' }));
    try {
      return await window.verifier.measure(m);
    } catch (e) {
      return { error: e.message };
    }
  }, JSON.parse(fs.readFileSync(demoManifest, 'utf8')));
  assert.match(got.error ?? '', /sections has 100000 entries, at most 256/);
});
