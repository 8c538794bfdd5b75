#!/usr/bin/env node
// Measures release provenance in headless Chromium and prints JSON:
//   verifyRelease   cvmtrust.verifyRelease of a release bundle, warm (the
//                   page has verified it once: Verifier made, keys imported,
//                   code compiled): Sigstore checks, the statement, the
//                   manifest and its launch digest recomputed. One bundle
//                   logged in Rekor v1 (SET, inclusion proof, checkpoint) and
//                   one in Rekor v2 (checkpoint, RFC 3161 timestamp), both
//                   from a simulated instance made for the run.
//   verifyBundle    cvmtrust.verifyBundle of a real actions/attest bundle
//                   (testdata/sigstore/real) against the embedded public-good
//                   trusted root, warm.
//   first           the first verifyRelease of a page (Verifier made, keys
//                   imported), once per fresh page.
// Budget (DESIGN.md): release provenance check, warm, in the page ≤ 10 ms.
// Run after ./scripts/build-wasm.sh:   node scripts/bench-release.mjs [--runs N]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { launchBrowser, openVerifierPage, repoRoot } from '../test/lib/browser.mjs';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 100;

const round = (x) => Math.round(x * 100) / 100;
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, min: round(s[0]), median: round(q(0.5)), p90: round(q(0.9)), max: round(s[s.length - 1]) };
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-bench-release-'));
try {
  execFileSync('go', ['run', './sigstore/simulated/cmd/release-fixtures', '--manifest', 'measure/testdata/demo-release.json', '--out', tmp],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  const cases = JSON.parse(fs.readFileSync(path.join(tmp, 'cases.json'), 'utf8'));
  const root = fs.readFileSync(path.join(tmp, cases.trustedRoot), 'utf8');
  const policy = {
    issuer: cases.policy.issuer,
    repository: new URL(cases.policy.repositoryUri).pathname.slice(1),
    workflow: '.github/workflows/release.yml',
    refPattern: 'refs/tags/*',
    maxAgeSeconds: cases.policy.maxAgeSeconds,
    simulatedTrustedRoot: root,
  };
  const bundles = {
    'rekor-v1': fs.readFileSync(path.join(tmp, 'release.sigstore.json'), 'utf8'),
    'rekor-v2': fs.readFileSync(path.join(tmp, 'release-rekor-v2.sigstore.json'), 'utf8'),
  };
  const realDir = path.join(repoRoot, 'testdata/sigstore/real');
  const real = JSON.parse(fs.readFileSync(path.join(realDir, 'cases.json'), 'utf8')).find((c) => c.bundle.startsWith('attest-demo'));
  const realBundle = fs.readFileSync(path.join(realDir, real.bundle), 'utf8');
  const realArtifact = [...fs.readFileSync(path.join(realDir, real.artifact))];

  const browser = await launchBrowser();
  const out = { runs, chromium: browser.context.browser()?.version() ?? 'chromium' };
  try {
    // First verification in fresh pages.
    const first = [];
    for (let i = 0; i < 5; i++) {
      const page = await openVerifierPage(browser);
      first.push(await page.evaluate(async ({ bundle, policy }) => {
        const t = performance.now();
        const r = await window.verifier.verifyRelease(bundle, policy);
        if (!r.verified) throw new Error(r.detail);
        return performance.now() - t;
      }, { bundle: bundles['rekor-v1'], policy }));
      await page.close();
    }
    out.first = stats(first);

    const page = await openVerifierPage(browser);
    out.verifyRelease = {};
    // Each bundle measured twice, alternating, so that neither is always
    // the one after a garbage collection of the other; the second pass is kept.
    for (const [name, bundle] of [...Object.entries(bundles), ...Object.entries(bundles)]) {
      const times = await page.evaluate(async ({ bundle, policy, runs }) => {
        for (let i = 0; i < 30; i++) await window.verifier.verifyRelease(bundle, policy);
        const ts = [];
        for (let i = 0; i < runs; i++) {
          const t = performance.now();
          const r = await window.verifier.verifyRelease(bundle, policy);
          ts.push(performance.now() - t);
          if (!r.verified) throw new Error(r.detail);
        }
        return ts;
      }, { bundle, policy, runs });
      out.verifyRelease[name] = stats(times);
    }
    const times = await page.evaluate(async ({ bundle, policy, artifact, runs }) => {
      const a = new Uint8Array(artifact);
      for (let i = 0; i < 30; i++) await window.verifier.verifyBundle(bundle, { ...policy, artifact: a });
      const ts = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        const r = await window.verifier.verifyBundle(bundle, { ...policy, artifact: a });
        ts.push(performance.now() - t);
        if (!r.verified) throw new Error('real bundle rejected');
      }
      return ts;
    }, { bundle: realBundle, policy: { issuer: real.issuer, identity: real.identity, repository: real.repository }, artifact: realArtifact, runs });
    out.verifyBundle = { 'actions-attest (public-good root)': stats(times) };
  } finally {
    await browser.close();
  }
  out.budgetMs = 10;
  out.withinBudget = Object.values(out.verifyRelease).every((s) => s.median <= out.budgetMs);
  console.log(JSON.stringify(out, null, 2));
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
