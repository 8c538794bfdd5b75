// Release provenance in the browser: cvmtrust.verifyRelease (the wasm build
// of release/provenance over the Sigstore verifier, with WebCrypto doing the
// signature math) reaches the verdict each simulated release case was made
// for, says why in plain words when it refuses, and cvmtrust.verifyBundle
// gives, for every real GitHub-Actions-signed bundle in
// testdata/sigstore/real, the same Result as `cvmtrust release verify-bundle
// --json` natively.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, goBinary, repoRoot, openVerifierPage } from './lib/browser.mjs';

const realDir = path.join(repoRoot, 'testdata/sigstore/real');

let browser;
let page;
let tmp;
let cli;
let fixtures;
let trustedRoot;

before(async () => {
  cli = goBinary('./cmd/cvmtrust');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-release-'));
  execFileSync('go', ['run', './sigstore/simulated/cmd/release-fixtures', '--manifest', 'measure/testdata/demo-release.json', '--out', tmp],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  fixtures = JSON.parse(fs.readFileSync(path.join(tmp, 'cases.json'), 'utf8'));
  trustedRoot = fs.readFileSync(path.join(tmp, fixtures.trustedRoot), 'utf8');
  browser = await launchBrowser();
  page = await openVerifierPage(browser);
});

after(async () => {
  await browser?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The policy the cases assume, as a page gives it. */
function releasePolicy() {
  return {
    issuer: fixtures.policy.issuer,
    repository: new URL(fixtures.policy.repositoryUri).pathname.slice(1),
    workflow: '.github/workflows/release.yml',
    refPattern: 'refs/tags/*',
    maxAgeSeconds: fixtures.policy.maxAgeSeconds,
    simulatedTrustedRoot: trustedRoot,
  };
}

/** Calls cvmtrust[fn](...args) in the page; { error } when it rejects. */
function call(fn, ...args) {
  return page.evaluate(async ({ fn, args }) => {
    try {
      return await window.verifier[fn](...args);
    } catch (e) {
      return { error: `${e.constructor.name}: ${e.message}` };
    }
  }, { fn, args });
}

// The words a person reads for the cases the issue names, and a few more.
const reasons = {
  'wrong-issuer': /another sign-in provider/,
  'other-repository': /another repository|someone other than the signer/,
  'other-workflow': /another workflow|someone other than the signer/,
  'branch-build': /branch or tag|someone other than the signer/,
  'tampered-manifest': /does not add up/,
  'too-old': /longer ago than this page accepts/,
  'break-signature': /changed after it was signed/,
  'break-untrusted-ca': /certificate authority/,
  'break-inclusion-proof': /transparency log/,
};

test('every simulated release case gets its verdict, measurement and plain reason', async () => {
  assert.ok(fixtures.simulated && fixtures.cases.length >= 20, 'the fixtures must be the simulated release cases');
  let verified = 0;
  for (const c of fixtures.cases) {
    const bundle = fs.readFileSync(path.join(tmp, c.file), 'utf8');
    const got = await call('verifyRelease', bundle, releasePolicy());
    assert.equal(got.error, undefined, `${c.name}: ${got.error}`);
    assert.equal(got.verified, c.verified, `${c.name}: verified=${got.verified} (${got.detail})`);
    assert.equal(got.simulated, true, `${c.name}: a simulated root must make the answer say so`);
    if (c.verified) {
      verified++;
      assert.equal(got.measurement, c.measurement, c.name);
      assert.equal(got.recomputed, true);
      assert.equal(got.repository, 'cvmtrust/cvmtrust');
      assert.match(got.commit, /^[0-9a-f]{40}$/);
      assert.equal(got.workflow, '.github/workflows/release.yml');
      assert.equal(got.tag, got.ref.replace(/^refs\/tags\//, ''));
      assert.ok(Number.isInteger(got.logIndex) && got.logIndex >= 0, `${c.name}: log index ${got.logIndex}`);
      assert.ok(got.signedAt, c.name);
      assert.equal(got.result.verified, true);
      assert.equal(got.result.simulated, true);
    } else {
      assert.ok(got.reason && !/cvmtrust\.|Err[A-Z]/.test(got.reason), `${c.name}: reason ${got.reason}`);
      if (reasons[c.name]) assert.match(got.reason, reasons[c.name], c.name);
      assert.ok(got.detail, c.name);
    }
  }
  assert.ok(verified >= 4);
});

test('a bundle for another artifact is not a release', async () => {
  // A real bundle signs an npm package, not a release statement.
  const bundle = fs.readFileSync(path.join(realDir, 'attest-demo-reusable-workflow-actions-attest.sigstore.json'), 'utf8');
  const c = JSON.parse(fs.readFileSync(path.join(realDir, 'cases.json'), 'utf8')).find((x) => x.bundle.startsWith('attest-demo'));
  const got = await call('verifyRelease', bundle, { issuer: c.issuer, identity: c.identity });
  assert.equal(got.verified, false);
  assert.equal(got.result.verified, true, 'the bundle itself verifies; it is just not a release');
  assert.match(got.reason, /not a release/);
});

test('only a simulated trusted root can replace the embedded one, and bad arguments reject with an Error', async () => {
  const real = fs.readFileSync(path.join(repoRoot, 'sigstore/trustedroot/public-good.json'), 'utf8');
  const bundle = fs.readFileSync(path.join(tmp, 'release.sigstore.json'), 'utf8');
  const notSimulated = await call('verifyRelease', bundle, { ...releasePolicy(), simulatedTrustedRoot: real });
  assert.match(notSimulated.error ?? '', /^Error: .*not a simulated Sigstore instance/);
  // Without the simulated root, the public-good root cannot verify it.
  const { simulatedTrustedRoot, ...publicGood } = releasePolicy();
  const pg = await call('verifyRelease', bundle, publicGood);
  assert.equal(pg.verified, false);
  assert.equal(pg.simulated, false);
  for (const [args, want] of [
    [[bundle], /want 2 arguments/],
    [[bundle, { ...releasePolicy(), issuer: undefined }], /issuer/],
    [[bundle, { ...releasePolicy(), colour: 'red' }], /not a known key/],
    [[42, releasePolicy()], /bundle must be/],
    [[bundle, { ...releasePolicy(), maxAgeSeconds: -1 }], /maxAgeSeconds/],
    [[bundle, { ...releasePolicy(), identityRegexp: 'x.*' }], /invalid policy/], // no regular expressions in the browser build
    [[bundle, { ...releasePolicy(), refPattern: '[' }], /invalid policy/],
  ]) {
    const got = await call('verifyRelease', ...args);
    assert.match(got.error ?? '', /^Error: cvmtrust\.verifyRelease: /, JSON.stringify(got).slice(0, 200));
    assert.match(got.error, want);
  }
});

test('real bundles: the same Result in the browser as natively', async () => {
  const cases = JSON.parse(fs.readFileSync(path.join(realDir, 'cases.json'), 'utf8'));
  for (const c of cases) {
    const args = ['release', 'verify-bundle', '--json', '--bundle', path.join(realDir, c.bundle)];
    if (c.key) args.push('--key', path.join(realDir, c.key));
    else args.push('--certificate-identity', c.identity, '--certificate-oidc-issuer', c.issuer, '--repo', c.repository, '--workflow', c.workflow);
    args.push(path.join(realDir, c.artifact));
    const native = JSON.parse(execFileSync(cli, args, { cwd: repoRoot }).toString());
    assert.equal(native.verified, true, c.bundle);
    const policy = c.key
      ? { key: fs.readFileSync(path.join(realDir, c.key), 'utf8') }
      : { issuer: c.issuer, identity: c.identity, repository: c.repository, workflow: c.workflow };
    const artifact = [...fs.readFileSync(path.join(realDir, c.artifact))];
    const browserResult = await page.evaluate(async ({ bundle, policy, artifact }) => {
      return window.verifier.verifyBundle(bundle, { ...policy, artifact: new Uint8Array(artifact) });
    }, { bundle: fs.readFileSync(path.join(realDir, c.bundle), 'utf8'), policy, artifact });
    assert.deepEqual(browserResult, native, c.bundle);

    // And a rejection, the same on both sides: another repository.
    if (!c.key) {
      const nativeRej = (() => {
        const a = args.slice();
        a[a.indexOf('--repo') + 1] = 'someone/else';
        try {
          execFileSync(cli, a, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
          return null;
        } catch (err) {
          return JSON.parse(err.stdout.toString());
        }
      })();
      assert.equal(nativeRej?.verified, false, c.bundle);
      const browserRej = await page.evaluate(async ({ bundle, policy, artifact }) => {
        return window.verifier.verifyBundle(bundle, { ...policy, repository: 'someone/else', artifact: new Uint8Array(artifact) });
      }, { bundle: fs.readFileSync(path.join(realDir, c.bundle), 'utf8'), policy, artifact });
      assert.deepEqual(browserRej, nativeRej, `${c.bundle}, another repository`);
    }
  }
});

test('malformed bundles are refused in words and the verifier stays alive', async () => {
  const good = fs.readFileSync(path.join(tmp, 'release.sigstore.json'), 'utf8');
  const inputs = [
    '', '{', 'null', '[]', '{"mediaType":1}', good.slice(0, good.length / 2), good.replace('"dsseEnvelope"', '"dsseEnvelop"'),
    good.replace(/"payload":\s*"[^"]*"/, '"payload":"!!!"'), good.replace(/"payload":\s*"[^"]*"/, '"payload":"e30="'),
    'x'.repeat((1 << 20) + 1),
  ];
  for (const bundle of inputs) {
    const got = await call('verifyRelease', bundle, releasePolicy());
    if (got.error) {
      assert.match(got.error, /^Error: cvmtrust\.verifyRelease: /, `${bundle.slice(0, 40)}: ${got.error}`);
    } else {
      assert.equal(got.verified, false, bundle.slice(0, 40));
      assert.ok(got.reason && !/cvmtrust\.|Err[A-Z]|undefined/.test(got.reason), got.reason);
    }
  }
  const after = await call('verifyRelease', good, releasePolicy());
  assert.equal(after.verified, true, 'the verifier still works after the malformed inputs');
});
