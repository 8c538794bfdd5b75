// scripts/build-guest.sh and scripts/run-guest.sh on bad input: a pinned
// package the mirror no longer serves, or serves with other bytes, stops the
// build with one line and nothing in OUT; run-guest.sh --snp refuses a QEMU
// other than the pinned one and prints the SNP launch it would run.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './lib/browser.mjs';

const asRoot = process.getuid() === 0;

// Runs a script without blocking this process, whose HTTP server the script
// may be talking to; bounded by timeoutMs.
function run(script, args, env, timeoutMs = 300_000) {
  return new Promise((resolve) => {
    const child = spawn(path.join(repoRoot, 'scripts', script), args, { cwd: repoRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

describe('build-guest.sh against a mirror that fails it', { skip: asRoot ? false : 'SKIPPED LOUDLY: build-guest.sh needs root (CI runs as root)' }, () => {
  let server, mirror, tmp;
  let answer = 'missing';
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-build-guest-'));
    server = http.createServer((req, res) => {
      if (answer === 'missing') {
        res.writeHead(404).end();
      } else {
        res.writeHead(200).end('not the pinned bytes');
      }
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    mirror = `http://127.0.0.1:${server.address().port}/debian`;
  });
  after(() => {
    server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const [what, want] of [
    ['missing', /^build-guest: the pinned \S+ \S+ is not served by http:\/\/127\.0\.0\.1:\d+\/debian \(HTTP 404 for pool\/main\/\S+\): take it from a snapshot archive \(CVMTRUST_DEBIAN_MIRROR=https:\/\/snapshot\.debian\.org\/archive\/debian\/<time>\) or update the pins \(scripts\/build-guest\.sh --update-pins\)$/],
    ['other bytes', /^build-guest: pool\/main\/\S+ from http:\/\/127\.0\.0\.1:\d+\/debian is not the pinned \S+ \S+ \(its SHA-256 differs\): refusing it$/],
  ]) {
    test(`a pinned package ${what === 'missing' ? 'not served' : 'served with other bytes'}: one line, nothing in OUT`, async () => {
      answer = what;
      const out = path.join(tmp, `out-${what.replace(' ', '-')}`);
      const cache = path.join(tmp, `cache-${what.replace(' ', '-')}`);
      const r = await run('build-guest.sh', [out], { CVMTRUST_CACHE: cache, CVMTRUST_DEBIAN_MIRROR: mirror });
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.match(lines.at(-1), want);
      assert.equal(fs.existsSync(out), false, 'OUT was written');
      assert.deepEqual(fs.readdirSync(path.join(cache, 'downloads')).filter((f) => f.endsWith('.deb')), [], 'a refused download was kept');
    });
  }
});

describe('run-guest.sh --snp', () => {
  let tmp, image, fakeBin;
  const pinnedQEMU = /^vmm\s+qemu-system-x86\s+(\S+)/m.exec(fs.readFileSync(path.join(repoRoot, 'guest/pins.lock'), 'utf8'))[1];
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-run-guest-'));
    // An image whose digest cvmtrust measure can compute: the demo release's
    // firmware stand-in and empty kernel and initrd.
    image = path.join(tmp, 'image');
    fs.mkdirSync(image);
    fs.copyFileSync(path.join(repoRoot, 'testdata/launch-digest/ovmf_AmdSev_suffix.bin'), path.join(image, 'OVMF.fd'));
    for (const f of ['vmlinuz', 'initrd.img']) fs.writeFileSync(path.join(image, f), '');
    fs.writeFileSync(path.join(image, 'cmdline'), 'console=ttyS0');
    fakeBin = path.join(tmp, 'bin');
    fs.mkdirSync(fakeBin);
  });
  after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

  // dpkg-query answering VERSION for qemu-system-x86.
  function withQEMU(version) {
    fs.writeFileSync(path.join(fakeBin, 'dpkg-query'), `#!/bin/sh\necho -n '${version}'\n`, { mode: 0o755 });
    return { PATH: `${fakeBin}:${process.env.PATH}` };
  }

  test('refuses a QEMU other than the pinned one', async () => {
    const r = await run('run-guest.sh', [image, '--snp', '--print-command'], withQEMU('1:7.2+dfsg-7+deb12u18'));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr.trim().split('\n').at(-1), new RegExp(`this host has qemu-system-x86 1:7\\.2\\+dfsg-7\\+deb12u18; the release pins ${pinnedQEMU.replace(/[.+]/g, '\\$&')}`));
  });

  test('with the pinned QEMU: the launch digest, then an SNP launch with kernel-hashes=on and the release\'s settings', async () => {
    const r = await run('run-guest.sh', [image, '--snp', '--print-command', '--listen', '127.0.0.1:8081'], withQEMU(pinnedQEMU));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /launch digest of these artifacts \(4 × EPYC-Milan, guest features 0x1\): [0-9a-f]{96}/);
    const cmd = r.stdout;
    for (const want of [
      /-accel kvm -cpu EPYC-Milan/, /-smp 4/,
      /sev-snp-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,kernel-hashes=on/,
      /confidential-guest-support=sev0/, /-bios \S+\/OVMF\.fd/, /-kernel \S+\/vmlinuz -initrd \S+\/initrd\.img -append console=ttyS0/,
      /virtio-net-pci,netdev=net0,iommu_platform=true/, /hostfwd=tcp:127\.0\.0\.1:8081-:80/,
    ]) assert.match(cmd, want);
    assert.doesNotMatch(cmd, /restrict=on/, 'a real guest must reach its ACME server');
  });

  test('--listen must stay on this machine', async () => {
    const r = await run('run-guest.sh', [image, '--simulated', '--listen', '0.0.0.0:8080', '--print-command'], {});
    assert.equal(r.code, 1);
    assert.match(r.stderr, /take 127\.0\.0\.1:PORT/);
  });
});
