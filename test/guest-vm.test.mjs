// The guest image as a whole, booted simulated under QEMU: the release the
// page checks is the image just built (signed by a SIMULATED Sigstore
// instance), the evidence comes from the gateway inside the VM, and a
// capture is sealed to the VM's key and enrolled by the sandboxed matcher
// inside it. Then the same image with one byte of one file of its initrd
// changed: its launch digest is not the release's, and both the CLI and the
// widget refuse it.
//
// Needs an image (CVMTRUST_GUEST_IMAGE=DIR, which scripts/test.sh builds
// with scripts/build-guest.sh) and qemu-system-x86_64.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { repoRoot, goBinary, launchEngine, readWidget, settled, clickPart } from './lib/browser.mjs';

const image = process.env.CVMTRUST_GUEST_IMAGE ? path.resolve(repoRoot, process.env.CVMTRUST_GUEST_IMAGE) : '';
const skip = image ? false : 'SKIPPED LOUDLY: no guest image; scripts/test.sh builds one (CVMTRUST_GUEST_IMAGE=DIR)';

// How long a boot may take to serve /attestation: TCG (no KVM) runs the
// kernel and the gateway's fake RSA-4096 AMD keys 5–20 times slower than
// the host, and the machine may be loaded.
const bootTimeoutMs = 420_000;

const launch = Object.fromEntries(fs.readFileSync(path.join(repoRoot, 'guest/launch.env'), 'utf8')
  .split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')));

function cvmtrust(args, { allowFail = false } = {}) {
  try {
    return { code: 0, out: execFileSync(goBinary('./cmd/cvmtrust'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    if (!allowFail || e.status == null) throw e;
    return { code: e.status, out: `${e.stdout}${e.stderr}` };
  }
}

function imageArgs(dir) {
  return ['--ovmf', path.join(dir, 'OVMF.fd'), '--kernel', path.join(dir, 'vmlinuz'), '--initrd', path.join(dir, 'initrd.img')];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

/**
 * Boots dir with scripts/run-guest.sh --simulated and waits until its
 * gateway answers /attestation. Resolves with { url, seconds, console(), stop() }.
 */
async function bootGuest(dir, release) {
  const port = await freePort();
  const started = Date.now();
  const child = spawn(path.join(repoRoot, 'scripts/run-guest.sh'),
    [dir, '--simulated', '--listen', `127.0.0.1:${port}`, '--release-bundle', release.bundle, '--sigstore-root', release.root],
    { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CVMTRUST_BIN: goBinary('./cmd/cvmtrust') } });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const stop = async () => {
    if (exited) return;
    try { process.kill(-child.pid, 'SIGKILL'); } catch {}
    await new Promise((r) => child.once('exit', r));
  };
  const url = `http://127.0.0.1:${port}`;
  const nonce = Buffer.alloc(32, 7).toString('base64url');
  while (Date.now() - started < bootTimeoutMs) {
    if (exited) break;
    try {
      const r = await fetch(`${url}/attestation?nonce=${nonce}`, { signal: AbortSignal.timeout(5000) });
      if (r.ok) return { url, seconds: (Date.now() - started) / 1000, console: () => output, stop };
    } catch {}
    await new Promise((r) => setTimeout(r, 1000));
  }
  await stop();
  throw new Error(`the guest did not serve /attestation within ${bootTimeoutMs / 1000} s (exited: ${exited}); its console:\n${output}`);
}

/**
 * Boots dir with the guest settings file config and waits for the guest to
 * power off; resolves with its console.
 */
async function bootUntilPowerOff(dir, config, timeoutMs = 300_000) {
  const port = await freePort();
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(repoRoot, 'scripts/run-guest.sh'), [dir, '--simulated', '--listen', `127.0.0.1:${port}`, '--config', config],
      { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CVMTRUST_BIN: goBinary('./cmd/cvmtrust') } });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => {
      try { process.kill(-child.pid, 'SIGKILL'); } catch {}
      reject(new Error(`the guest did not power off within ${timeoutMs / 1000} s; its console:\n${output}`));
    }, timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}

/** A copy of the image whose initrd has one byte of one file changed. */
function tamperedImage(dir, into) {
  fs.mkdirSync(into, { recursive: true });
  for (const f of ['OVMF.fd', 'vmlinuz', 'cmdline']) fs.copyFileSync(path.join(dir, f), path.join(into, f));
  const cpio = zlib.gunzipSync(fs.readFileSync(path.join(dir, 'initrd.img')));
  // A byte of the demo page's text, inside a file: the archive stays valid
  // and the guest boots, serving a page that is not the released one.
  const at = cpio.indexOf(Buffer.from('SIMULATED'));
  assert.ok(at > 0, 'the initrd holds the demo page');
  cpio[at] ^= 0x20; // S → s
  fs.writeFileSync(path.join(into, 'initrd.img'), zlib.gzipSync(cpio, { level: 9 }));
  return into;
}

describe('the guest image, booted simulated', { skip }, () => {
  let tmp, manifest, release, digest, vm;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-guest-test-'));
    manifest = path.join(tmp, 'release.json');
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    digest = cvmtrust(['measure', ...imageArgs(image), '--append', fs.readFileSync(path.join(image, 'cmdline'), 'utf8'),
      '--vcpus', launch.VCPUS, '--vcpu-type', launch.VCPU_TYPE, '--guest-features', launch.GUEST_FEATURES,
      '--release', 'cvmtrust-guest-test', '--source-commit', commit, '--write-manifest', manifest]).out.trim();
    release = { bundle: path.join(tmp, 'bundle.json'), root: path.join(tmp, 'sigstore-root.json') };
    cvmtrust(['release', 'sign-simulated', '--manifest', manifest, '--bundle', release.bundle, '--trusted-root', release.root]);
    vm = await bootGuest(image, release);
  });

  after(async () => {
    await vm?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('boots to serving its evidence: PID 1 loaded the modules, locked the kernel, got a DHCP lease', (t) => {
    t.diagnostic(`boot to serving /attestation: ${vm.seconds.toFixed(1)} s`);
    const c = vm.console();
    assert.match(c, /cvmtrust-init: kernel locked: \d+ settings written, module loading off/);
    assert.match(c, /cvmtrust-init: network: IPv4 DHCP Lease IP 10\.0\.2\.15\/24 on eth0/);
    assert.match(c, /NO SEV-SNP: .* SIMULATED/);
    assert.match(c, /sev-guest: not loaded, this machine has no SEV-SNP/);
    // Every sandbox layer is there under the guest kernel (the simulated
    // gateway would otherwise name those it runs the matcher without), and
    // PID 1 locked the file systems before it started the gateway.
    assert.match(c, /the matcher runs in every sandbox layer: user, network, mount, pid, ipc, uts, cgroup, no_new_privs, seccomp, landlock, rlimits, environment, pdeathsig/);
    assert.doesNotMatch(c, /the matcher runs WITHOUT these sandbox layers/);
    assert.match(c, /cvmtrust-init: file systems locked: \d+ steps/);
  });

  test('cvmtrust verify --gateway accepts its evidence for the image\'s digest and refuses another', async () => {
    const ark = path.join(tmp, 'ark.pem');
    fs.writeFileSync(ark, Buffer.from(await (await fetch(`${vm.url}/simulated/ark.pem`)).arrayBuffer()));
    const ok = cvmtrust(['verify', '--gateway', vm.url, '--measurement', digest, '--simulated-root', ark], { allowFail: true });
    assert.equal(ok.code, 0, ok.out);
    const other = digest.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const bad = cvmtrust(['verify', '--gateway', vm.url, '--measurement', other, '--simulated-root', ark], { allowFail: true });
    assert.equal(bad.code, 1, bad.out);
    assert.match(bad.out, /measurement/i);
  });

  test('the widget in Chromium verifies the release and the VM, and a capture is enrolled inside it', async () => {
    const engine = await launchEngine('chromium');
    try {
      const page = await engine.newPage();
      await page.goto(`${vm.url}/demo/`);
      assert.equal(await settled(page, 'cvm-attest', 60000), 'simulated');
      const ui = await readWidget(page);
      assert.deepEqual(ui.failed, []);
      assert.match(ui.facts, /cvmtrust-guest-test/);
      // The shadow root is closed: the page recorded it as it was attached (test/lib/browser.mjs, launchEngine).
      await page.waitFor(() => { const r = window.__test.root(document.querySelector('cvm-attest')); return !r.querySelector('.capture').disabled && r.querySelector('.preview').videoWidth > 0; }, null, { timeout: 30000 });
      await clickPart(page, 'capture');
      await page.waitFor(() => document.querySelector('cvm-attest').receipt !== null, null, { timeout: 60000 });
      assert.match((await readWidget(page)).receipt, /You are enrolled/);
    } finally {
      await engine.close();
    }
  });

  test('bad operator settings: the guest says so and powers off, serving nothing', async () => {
    const config = path.join(tmp, 'bad-config.json');
    fs.writeFileSync(config, '{"domains":["not a domain name"]}');
    const { code, output } = await bootUntilPowerOff(image, config);
    assert.equal(code, 0, output);
    assert.match(output, /cvmtrust-init: the gateway cannot run: the operator's settings \(fw_cfg opt\/org\.cvmtrust\/config\) are not usable: domain "not a domain name" is not a DNS name/);
    assert.match(output, /cvmtrust-init: powering off/);
    assert.doesNotMatch(output, /gateway started/);
  });

  describe('the image with one byte of its initrd changed', () => {
    let tampered, bad;
    before(async () => {
      tampered = tamperedImage(image, path.join(tmp, 'tampered'));
      bad = await bootGuest(tampered, release);
    });
    after(async () => { await bad?.stop(); });

    test('cvmtrust measure --manifest refuses its artifacts', () => {
      const r = cvmtrust(['measure', '--manifest', manifest, ...imageArgs(tampered)], { allowFail: true });
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /initrd/);
    });

    test('the widget refuses the VM booted from it: its measurement is not the release\'s; nothing is captured', async () => {
      const engine = await launchEngine('chromium');
      try {
        const page = await engine.newPage();
        await page.goto(`${bad.url}/demo/`);
        assert.equal(await settled(page, 'cvm-attest', 60000), 'failed');
        const ui = await readWidget(page);
        assert.ok(ui.failed.some((n) => /measurement/.test(n)), `failed checks: ${ui.failed}`);
        assert.equal(ui.cameraHidden, true);
      } finally {
        await engine.close();
      }
    });
  });
});
