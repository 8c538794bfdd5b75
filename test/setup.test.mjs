// scripts/lib/setup.sh, the set-up that demo.sh and test.sh run first, on a
// fake machine: this machine's commands without the browsers, the toolchains
// and apt-get, and in their place fakes that record how they are called (an
// apt-get that "installs" a package by creating the files it provides, an id
// that says root or not). Nothing here installs anything for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const setupLib = path.join(repoRoot, 'scripts/lib/setup.sh');
const goWant = /^go (\S+)$/m.exec(fs.readFileSync(path.join(repoRoot, 'go.mod'), 'utf8'))[1];

// What the fake machine lacks unless a fake or the fake apt-get provides it.
const hidden = new Set([
  'apt-get', 'id', 'go', 'node', 'npm',
  'chromium', 'firefox-esr', 'WebKitWebDriver', 'xvfb-run', 'qemu-system-x86_64', 'mmdebstrap',
]);

// One directory of links to every other command on this machine's PATH.
let systemBinDir;
function systemBin() {
  if (systemBinDir) return systemBinDir;
  systemBinDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-setup-sys-'));
  process.once('exit', () => fs.rmSync(systemBinDir, { recursive: true, force: true }));
  for (const dir of process.env.PATH.split(':')) {
    let names;
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const link = path.join(systemBinDir, name);
      if (hidden.has(name) || fs.existsSync(link)) continue;
      fs.symlinkSync(path.join(dir, name), link);
    }
  }
  return systemBinDir;
}

const script = (file, text) => fs.writeFileSync(file, `#!/bin/bash\n${text}`, { mode: 0o755 });

/**
 * A fake machine: a repository root with this go.mod and package-lock.json,
 * fakes for the toolchains (null: not installed), and the packages its
 * apt-get knows, each with the files it provides (paths under the machine's
 * directory; the browsers where the environment says test/lib/browser.mjs
 * looks for them, xvfb-run and the guest image's tools on PATH).
 */
function fakeMachine(t, { uid = 0, go = 'go1.26.8', node = 'v20.20.2', npm = true } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-setup-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bin = path.join(dir, 'bin');
  const installed = path.join(dir, 'installed');
  const root = path.join(dir, 'repo');
  for (const d of [bin, installed, root]) fs.mkdirSync(d);
  for (const f of ['go.mod', 'package-lock.json']) fs.copyFileSync(path.join(repoRoot, f), path.join(root, f));
  const log = path.join(dir, 'calls.log');
  fs.writeFileSync(log, '');

  const files = {
    chromium: [path.join(dir, 'usr/bin/chromium')],
    'firefox-esr': [path.join(dir, 'usr/bin/firefox-esr')],
    'webkit2gtk-driver': [path.join(dir, 'usr/bin/WebKitWebDriver')],
    'libwebkit2gtk-4.1-0': [path.join(dir, 'usr/lib/webkit2gtk-4.1/MiniBrowser')],
    xvfb: [path.join(installed, 'xvfb-run')],
    'qemu-system-x86': [path.join(installed, 'qemu-system-x86_64')],
    mmdebstrap: [path.join(installed, 'mmdebstrap')],
    empty: [], // installs, yet provides nothing
  };
  const provides = path.join(dir, 'apt-provides');
  fs.writeFileSync(provides, Object.entries(files).flatMap(([p, fs]) => fs.map((f) => `${p} ${f}\n`)).join(''));

  script(path.join(bin, 'id'), `[ "$1" = -u ] && echo ${uid}\n`);
  script(path.join(bin, 'apt-get'), `echo "apt-get $*" >>"$FAKE_LOG"
[[ $1 == install ]] || exit 0
for package in "\${@:2}"; do
  [[ $package == -* ]] && continue
  if [[ $package == broken ]]; then echo "E: Unable to locate package broken" >&2; exit 100; fi
  while read -r p file; do
    if [[ $p == "$package" ]]; then mkdir -p "$(dirname "$file")"; printf '#!/bin/sh\\n' >"$file"; chmod +x "$file"; fi
  done <"$FAKE_APT_PROVIDES"
done
`);
  if (go) {
    // go mod download with the proxy off succeeds only once the modules are "in the cache".
    script(path.join(bin, 'go'), `case "$1 $2" in
"env GOVERSION") echo ${go} ;;
"mod download")
  echo "\${GOPROXY:+GOPROXY=$GOPROXY }go $*" >>"$FAKE_LOG"
  if [[ \${GOPROXY:-} == off ]]; then [[ -e "$FAKE_MODCACHE" ]]; else touch "$FAKE_MODCACHE"; fi ;;
*) echo "fake go: $*" >&2; exit 2 ;;
esac
`);
  }
  if (node) script(path.join(bin, 'node'), `[ "$1" = --version ] && echo ${node}\n`);
  if (npm) {
    script(path.join(bin, 'npm'), `echo "npm $*" >>"$FAKE_LOG"
[[ $1 == ci ]] && rm -rf node_modules && mkdir node_modules && echo '{}' >node_modules/.package-lock.json
`);
  }

  const env = {
    PATH: [bin, installed, systemBin()].join(':'),
    HOME: dir,
    LANG: 'C.UTF-8',
    FAKE_LOG: log,
    FAKE_APT_PROVIDES: provides,
    FAKE_MODCACHE: path.join(dir, 'modcache-filled'),
    CHROMIUM: files.chromium[0],
    FIREFOX: files['firefox-esr'][0],
    WEBKIT_WEBDRIVER: files['webkit2gtk-driver'][0],
    WEBKIT_MINIBROWSER: files['libwebkit2gtk-4.1-0'][0],
  };
  return {
    root,
    files,
    /** Runs commands after sourcing the set-up, as test.sh does. */
    run(commands, extraEnv = {}) {
      const r = spawnSync('/bin/bash', ['-c', `set -euo pipefail; source ${setupLib}; ${commands}`, 'test'], {
        cwd: root, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 30000,
      });
      return { status: r.status, stderr: r.stderr, lines: r.stderr.split('\n').filter(Boolean) };
    },
    /** The calls the fakes recorded, oldest first, and forgets them. */
    calls() {
      const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
      fs.writeFileSync(log, '');
      return lines;
    },
    install(...packages) {
      for (const p of packages) {
        for (const f of files[p]) {
          fs.mkdirSync(path.dirname(f), { recursive: true });
          script(f, '');
        }
      }
    },
  };
}

const aptInstall = (...packages) => `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
const browserPackages = ['chromium', 'firefox-esr', 'webkit2gtk-driver', 'libwebkit2gtk-4.1-0', 'xvfb'];
const apt = (calls) => calls.filter((c) => c.startsWith('apt-get'));

test('as root without the browsers: one apt-get update and one install, and no apt on the next run', (t) => {
  const m = fakeMachine(t);
  let r = m.run('setup_for_tests');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(apt(m.calls()), ['apt-get update', aptInstall(...browserPackages)]);
  assert.match(r.stderr, new RegExp(`test: installing ${browserPackages.join(' ')} \\(apt-get install\\): done in \\d+\\.\\d s`));
  for (const p of browserPackages) for (const f of m.files[p]) assert.ok(fs.existsSync(f), f);

  r = m.run('setup_for_tests');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(apt(m.calls()), []);
  assert.match(r.stderr, /Debian packages: what is needed is installed/);
});

test('with the browsers installed, apt is not called, not even to update', (t) => {
  const m = fakeMachine(t);
  m.install(...browserPackages);
  const r = m.run('setup_for_tests');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(apt(m.calls()), []);
});

test('CVMTRUST_BROWSERS picks the packages: Chromium always, the others when named', (t) => {
  const cases = [
    ['chromium', ['chromium']],
    ['chromium,webkit', ['chromium', 'webkit2gtk-driver', 'libwebkit2gtk-4.1-0', 'xvfb']],
    ['firefox', ['chromium', 'firefox-esr']],
    ['', ['chromium']],
  ];
  for (const [browsers, packages] of cases) {
    const m = fakeMachine(t);
    const r = m.run('setup_test_debian_packages', { CVMTRUST_BROWSERS: browsers });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(apt(m.calls()), ['apt-get update', aptInstall(...packages)], `CVMTRUST_BROWSERS=${browsers}`);
  }
});

test('not root: one line names the exact command, and nothing else runs', (t) => {
  const m = fakeMachine(t, { uid: 1000 });
  m.install('chromium', 'firefox-esr');
  const r = m.run('setup_for_tests');
  assert.equal(r.status, 1);
  assert.deepEqual(r.lines, [
    'test: missing Debian packages: webkit2gtk-driver libwebkit2gtk-4.1-0 xvfb; as root, run: apt-get update && '
      + aptInstall('webkit2gtk-driver', 'libwebkit2gtk-4.1-0', 'xvfb'),
  ]);
  assert.deepEqual(m.calls(), []);
});

test('a longer list later in the same run (a guest image build) installs only what is new, without a second update', (t) => {
  const m = fakeMachine(t);
  const r = m.run(`setup_test_debian_packages
setup_debian_packages "$CHROMIUM=chromium" xvfb-run=xvfb qemu-system-x86_64=qemu-system-x86 mmdebstrap=mmdebstrap
setup_debian_packages qemu-system-x86_64=qemu-system-x86 mmdebstrap=mmdebstrap`);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(apt(m.calls()), [
    'apt-get update',
    aptInstall(...browserPackages),
    aptInstall('qemu-system-x86', 'mmdebstrap'),
  ]);
});

test('an install that fails, or a package that does not provide the command, stops with a clear line', (t) => {
  const m = fakeMachine(t);
  let r = m.run('setup_debian_packages broken-tool=broken');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /test: installing broken \(apt-get install\) failed after \d+\.\d s/);

  r = m.run('setup_debian_packages empty-tool=empty');
  assert.equal(r.status, 1);
  assert.match(r.lines.at(-1), /^test: installed, yet still missing: empty-tool \(empty\)$/);

  // In one run, apt is not asked twice for a package that did not help.
  r = m.run('setup_debian_packages empty-tool=empty || true; setup_debian_packages empty-tool=empty');
  assert.equal(r.status, 1);
  assert.match(r.lines.at(-1), /apt already installed empty, yet what it should provide is missing/);
  assert.equal(apt(m.calls()).filter((c) => c.startsWith('apt-get install')).length, 3);
});

test('Go older than go.mod and Node older than 20: one line each, before anything else runs', (t) => {
  const m = fakeMachine(t, { go: 'go1.25.3', node: 'v18.20.4' });
  const r = m.run('setup_for_tests');
  assert.equal(r.status, 1);
  assert.deepEqual(r.lines, [
    `test: Go go1.25.3 is older than the Go ${goWant} that go.mod asks for: install Go ${goWant} or newer (https://go.dev/dl/)`,
    'test: Node v18.20.4 is older than the Node 20 the widget build and the tests need: install Node 20 or newer (https://nodejs.org/)',
  ]);
  assert.deepEqual(m.calls(), []);
});

test('Go, Node or npm not installed: one line each, before anything else runs', (t) => {
  let m = fakeMachine(t, { go: null, node: null });
  let r = m.run('setup_for_demo');
  assert.equal(r.status, 1);
  assert.deepEqual(r.lines, [
    `test: Go is not installed: install Go ${goWant} or newer (https://go.dev/dl/)`,
    'test: Node is not installed: install Node 20 or newer (https://nodejs.org/)',
  ]);
  assert.deepEqual(m.calls(), []);

  m = fakeMachine(t, { npm: false });
  r = m.run('setup_for_demo');
  assert.equal(r.status, 1);
  assert.deepEqual(r.lines, ['test: npm is not installed: install the npm that goes with Node v20.20.2 (on Debian: apt-get install npm)']);
  assert.deepEqual(m.calls(), []);

  // Newer than asked for is fine.
  m = fakeMachine(t, { go: 'go1.27.0', node: 'v22.1.0' });
  assert.equal(m.run('setup_toolchains').status, 0);
});

test('npm ci runs when node_modules is missing or its package-lock.json changed, and only then', (t) => {
  const m = fakeMachine(t);
  const ci = 'npm ci --no-audit --no-fund';
  let r = m.run('setup_npm_packages');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(m.calls(), [ci]);
  assert.match(r.stderr, /test: installing the npm packages \(npm ci: node_modules is missing\): done in \d+\.\d s/);

  assert.equal(m.run('setup_npm_packages').status, 0);
  assert.deepEqual(m.calls(), []);

  const lock = path.join(m.root, 'package-lock.json');
  fs.appendFileSync(lock, '\n');
  r = m.run('setup_npm_packages');
  assert.match(r.stderr, /npm ci: package-lock.json changed since the last npm ci/);
  assert.deepEqual(m.calls(), [ci]);

  // A node_modules installed by hand, before any stamp: kept when npm's own
  // record of the install is newer than the lock, reinstalled when older.
  const stamp = path.join(m.root, 'node_modules/.cvmtrust-package-lock.sha256');
  fs.rmSync(stamp);
  assert.equal(m.run('setup_npm_packages').status, 0);
  assert.deepEqual(m.calls(), []);
  assert.ok(fs.existsSync(stamp));
  fs.rmSync(stamp);
  const old = new Date(Date.now() - 3600e3);
  fs.utimesSync(path.join(m.root, 'node_modules/.package-lock.json'), old, old);
  r = m.run('setup_npm_packages');
  assert.match(r.stderr, /npm ci: node_modules is older than package-lock.json/);
  assert.deepEqual(m.calls(), [ci]);
});

test('go mod download runs when a module is missing from the cache, and only then', (t) => {
  const m = fakeMachine(t);
  let r = m.run('setup_go_modules');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(m.calls(), ['GOPROXY=off go mod download', 'go mod download']);
  assert.match(r.stderr, /test: downloading the Go modules \(go mod download\): done in \d+\.\d s/);

  r = m.run('setup_go_modules');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(m.calls(), ['GOPROXY=off go mod download']);
  assert.match(r.stderr, /test: Go modules: all in the module cache/);
});
