// Release provenance in the browser, in every engine of CVMTRUST_BROWSERS
// (Chromium, Firefox ESR, WebKitGTK): cvmtrust.verifyRelease (the wasm build
// of release/provenance over the Sigstore verifier, with WebCrypto doing the
// signature math) reaches the verdict each simulated release case was made
// for, says why in plain words when it refuses, and cvmtrust.verifyBundle
// gives, for every real GitHub-Actions-signed bundle in
// testdata/sigstore/real, the same Result as `cvmtrust release verify-bundle
// --json` natively.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchEngine, selectedEngines, goBinary, repoRoot } from './lib/browser.mjs';
import { startTestSite } from './lib/testsite.mjs';

const realDir = path.join(repoRoot, 'testdata/sigstore/real');
const realCases = JSON.parse(fs.readFileSync(path.join(realDir, 'cases.json'), 'utf8'));

// The simulated release cases, written once for every engine.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-release-'));
process.once('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
execFileSync('go', ['run', './sigstore/simulated/cmd/release-fixtures', '--manifest', 'measure/testdata/demo-release.json', '--out', tmp],
  { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
const fixtures = JSON.parse(fs.readFileSync(path.join(tmp, 'cases.json'), 'utf8'));
const trustedRoot = fs.readFileSync(path.join(tmp, fixtures.trustedRoot), 'utf8');
const fixture = (file) => fs.readFileSync(path.join(tmp, file), 'utf8');

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

// The words a person reads for the cases the issue names, and a few more.
const reasons = {
  'wrong-issuer': /another sign-in provider/,
  'other-repository': /another repository|someone other than the signer/,
  'other-workflow': /another workflow|someone other than the signer/,
  'branch-build': /branch or tag|someone other than the signer/,
  'tampered-manifest': /does not add up/,
  'too-old': /longer ago than this page accepts/,
  'old-release': /longer ago than this page accepts/,
  'misnamed': /name is not the tag it was built from/,
  'break-signature': /changed after it was signed/,
  'break-untrusted-ca': /certificate authority/,
  'break-inclusion-proof': /transparency log/,
};

// `cvmtrust release verify-bundle --json` for a real case, and for the same
// case with another repository (a rejection); run once, compared in every engine.
const nativeResults = new Map();
function native(c) {
  if (!nativeResults.has(c.bundle)) {
    const run = (args) => {
      try {
        return JSON.parse(execFileSync(goBinary('./cmd/cvmtrust'), args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] }).toString());
      } catch (err) {
        if (err.status !== 1) throw err; // 1: rejected, with the Result on stdout
        return JSON.parse(err.stdout.toString());
      }
    };
    const args = ['release', 'verify-bundle', '--json', '--bundle', path.join(realDir, c.bundle)];
    if (c.key) args.push('--key', path.join(realDir, c.key));
    else args.push('--certificate-identity', c.identity, '--certificate-oidc-issuer', c.issuer, '--repo', c.repository, '--workflow', c.workflow);
    const other = args.slice();
    if (!c.key) other[other.indexOf('--repo') + 1] = 'someone/else';
    nativeResults.set(c.bundle, {
      verified: run([...args, path.join(realDir, c.artifact)]),
      otherRepository: c.key ? null : run([...other, path.join(realDir, c.artifact)]),
    });
  }
  return nativeResults.get(c.bundle);
}

let site; // web/ as static files, for every engine
before(async () => { site = await startTestSite(null); });
after(async () => { await site?.close(); });

for (const engine of selectedEngines()) {
  describe(engine, { timeout: 180000 }, () => {
    let browser;
    let page;

    before(async () => {
      browser = await launchEngine(engine);
      page = await browser.newPage();
      await page.goto(new URL('blank.html', site.url).href);
      await page.evaluate(async () => {
        const { loadVerifier } = await import('/index.js');
        window.verifier = await loadVerifier();
      });
    });

    after(async () => { await browser?.close(); });

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

    test('every simulated release case gets its verdict, measurement and plain reason', async () => {
      assert.ok(fixtures.simulated && fixtures.cases.length >= 20, 'the fixtures must be the simulated release cases');
      // All cases in one call: one round trip to the page, not one per case.
      const got = await page.evaluate(async ({ bundles, policy }) => {
        const out = [];
        for (const b of bundles) {
          try {
            out.push(await window.verifier.verifyRelease(b, policy));
          } catch (e) {
            out.push({ error: `${e.constructor.name}: ${e.message}` });
          }
        }
        return out;
      }, { bundles: fixtures.cases.map((c) => fixture(c.file)), policy: releasePolicy() });
      assert.equal(got.length, fixtures.cases.length);
      let verified = 0;
      fixtures.cases.forEach((c, i) => {
        const g = got[i];
        assert.equal(g.error, undefined, `${c.name}: ${g.error}`);
        assert.equal(g.verified, c.verified, `${c.name}: verified=${g.verified} (${g.detail})`);
        assert.equal(g.simulated, true, `${c.name}: a simulated root must make the answer say so`);
        if (c.verified) {
          verified++;
          assert.equal(g.measurement, c.measurement, c.name);
          assert.equal(g.recomputed, true);
          assert.equal(g.repository, 'cvmtrust/cvmtrust');
          assert.match(g.commit, /^[0-9a-f]{40}$/);
          assert.equal(g.workflow, '.github/workflows/release.yml');
          assert.equal(g.tag, g.ref.replace(/^refs\/tags\//, ''));
          assert.ok(Number.isInteger(g.logIndex) && g.logIndex >= 0, `${c.name}: log index ${g.logIndex}`);
          assert.ok(g.signedAt, c.name);
          assert.equal(g.result.verified, true);
          assert.equal(g.result.simulated, true);
        } else {
          assert.ok(g.reason && !/cvmtrust\.|Err[A-Z]/.test(g.reason), `${c.name}: reason ${g.reason}`);
          if (reasons[c.name]) assert.match(g.reason, reasons[c.name], c.name);
          assert.ok(g.detail, c.name);
        }
      });
      assert.ok(verified >= 4);
    });

    // WebKitGTK refuses importKey('spki', …) of an Ed25519 key whose first
    // byte is 0x00; the verifier imports Ed25519 keys raw. The simulated
    // Rekor v2 log's key always begins with 0x00, so every run meets it.
    test('a Rekor v2 release whose log key begins with 0x00 verifies', async (t) => {
      const log = JSON.parse(trustedRoot).tlogs.find((l) => l.publicKey.keyDetails === 'PKIX_ED25519');
      const spki = Buffer.from(log.publicKey.rawBytes, 'base64');
      assert.equal(spki.length, 44);
      assert.equal(spki[12], 0x00, 'the simulated Rekor v2 key must begin with 0x00');
      const got = await call('verifyRelease', fixture(fixtures.cases.find((c) => c.name === 'release-rekor-v2').file), releasePolicy());
      assert.equal(got.verified, true, got.detail);
      assert.ok(got.result.checks.some((c) => /checkpoint/.test(c.name) && c.outcome === 'pass'), 'the checkpoint signature was checked');
      // How this engine takes the same key as SubjectPublicKeyInfo, for the record (not asserted: an engine may fix it).
      const spkiImport = await page.evaluate(async (b64) => {
        const der = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        try {
          await crypto.subtle.importKey('spki', der, { name: 'Ed25519' }, false, ['verify']);
          return 'accepted';
        } catch (e) {
          return `refused (${e.name})`;
        }
      }, log.publicKey.rawBytes);
      t.diagnostic(`${engine}: importKey('spki') of the 0x00-leading Ed25519 key: ${spkiImport}`);
    });

    test('a release policy must limit the age or lift the limit in words; the lowest release, by tag or time', async () => {
      const old = fixture(fixtures.cases.find((c) => c.name === 'old-release').file);
      const current = fixture(fixtures.cases.find((c) => c.name === 'release').file);
      const { maxAgeSeconds, ...noLimit } = releasePolicy();
      const none = await call('verifyRelease', current, noLimit);
      assert.match(none.error ?? '', /^Error: .*must limit the release's age/, 'no silent "any age"');
      const anyAge = await call('verifyRelease', old, { ...noLimit, maxAgeUnsafe: true });
      assert.equal(anyAge.verified, true, `maxAgeUnsafe accepts the 600-day-old release: ${anyAge.detail}`);
      const longer = await call('verifyRelease', old, { ...noLimit, maxAgeUnsafe: true, maxAgeSeconds: 500 * 86400 });
      assert.equal(longer.verified, false, 'a 500-day limit still refuses a 600-day-old release');
      assert.match(longer.reason, /longer ago than this page accepts/);
      const now = Math.floor(Date.now() / 1000);
      const byTime = await call('verifyRelease', old, { ...noLimit, maxAgeUnsafe: true, minSignedAt: now - 86400 });
      assert.equal(byTime.verified, false);
      assert.match(byTime.reason, /older than the lowest release this page accepts/);
      assert.equal((await call('verifyRelease', current, { ...releasePolicy(), minSignedAt: now - 86400 })).verified, true, 'a release signed since is accepted');
      const byTag = await call('verifyRelease', current, { ...releasePolicy(), minTag: 'v1.0.0' });
      assert.equal(byTag.verified, false, 'a release not named as a version is below any version minimum');
      assert.match(byTag.reason, /older than the lowest release/);
      assert.match((await call('verifyRelease', current, { ...releasePolicy(), minTag: '1.0' })).error ?? '', /^Error: .*minTag: .*not a version tag: "1\.0"/);
    });

    test('a bundle for another artifact is not a release', async () => {
      // A real bundle signs an npm package, not a release statement.
      const c = realCases.find((x) => x.bundle.startsWith('attest-demo'));
      // A real bundle from months ago: its age is not what this checks.
      const got = await call('verifyRelease', fs.readFileSync(path.join(realDir, c.bundle), 'utf8'), { issuer: c.issuer, identity: c.identity, maxAgeUnsafe: true });
      assert.equal(got.verified, false);
      assert.equal(got.result.verified, true, 'the bundle itself verifies; it is just not a release');
      assert.match(got.reason, /not a release/);
    });

    test('only a simulated trusted root can replace the embedded one, and bad arguments reject with an Error', async () => {
      const real = fs.readFileSync(path.join(repoRoot, 'sigstore/trustedroot/public-good.json'), 'utf8');
      const bundle = fixture('release.sigstore.json');
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

    test('real bundles: the same Result in the browser as natively, verified and for another repository', async () => {
      assert.ok(realCases.length >= 6);
      for (const c of realCases) {
        const want = native(c);
        assert.equal(want.verified.verified, true, c.bundle);
        const policy = c.key
          ? { key: fs.readFileSync(path.join(realDir, c.key), 'utf8') }
          : { issuer: c.issuer, identity: c.identity, repository: c.repository, workflow: c.workflow };
        const [verified, otherRepository] = await page.evaluate(async ({ bundle, policy, artifact, keyed }) => {
          const bytes = Uint8Array.from(atob(artifact), (ch) => ch.charCodeAt(0));
          return [
            await window.verifier.verifyBundle(bundle, { ...policy, artifact: bytes }),
            keyed ? null : await window.verifier.verifyBundle(bundle, { ...policy, repository: 'someone/else', artifact: bytes }),
          ];
        }, {
          bundle: fs.readFileSync(path.join(realDir, c.bundle), 'utf8'),
          policy,
          artifact: fs.readFileSync(path.join(realDir, c.artifact)).toString('base64'),
          keyed: Boolean(c.key),
        });
        assert.deepEqual(verified, want.verified, c.bundle);
        if (!c.key) {
          // A rejection, the same on both sides.
          assert.equal(want.otherRepository.verified, false, c.bundle);
          assert.deepEqual(otherRepository, want.otherRepository, `${c.bundle}, another repository`);
        }
      }
    });

    test('malformed bundles are refused in words and the verifier stays alive', async () => {
      const good = fixture('release.sigstore.json');
      const inputs = [
        '', '{', 'null', '[]', '{"mediaType":1}', good.slice(0, good.length / 2), good.replace('"dsseEnvelope"', '"dsseEnvelop"'),
        good.replace(/"payload":\s*"[^"]*"/, '"payload":"!!!"'), good.replace(/"payload":\s*"[^"]*"/, '"payload":"e30="'),
      ];
      const got = await page.evaluate(async ({ inputs, policy }) => {
        // And one past the verifier's 1 MiB cap, made here rather than sent over the driver.
        inputs.push('x'.repeat((1 << 20) + 1));
        const out = [];
        for (const b of inputs) {
          try {
            const r = await window.verifier.verifyRelease(b, policy);
            out.push({ verified: r.verified, reason: r.reason });
          } catch (e) {
            out.push({ error: `${e.constructor.name}: ${e.message}` });
          }
        }
        return out;
      }, { inputs, policy: releasePolicy() });
      inputs.push(`${'x'.repeat(40)}… (1 MiB + 1)`);
      assert.equal(got.length, inputs.length);
      inputs.forEach((bundle, i) => {
        const g = got[i];
        if (g.error) {
          assert.match(g.error, /^Error: cvmtrust\.verifyRelease: /, `${bundle.slice(0, 40)}: ${g.error}`);
        } else {
          assert.equal(g.verified, false, bundle.slice(0, 40));
          assert.ok(g.reason && !/cvmtrust\.|Err[A-Z]|undefined/.test(g.reason), g.reason);
        }
      });
      const afterwards = await call('verifyRelease', good, releasePolicy());
      assert.equal(afterwards.verified, true, 'the verifier still works after the malformed inputs');
    });
  });
}
