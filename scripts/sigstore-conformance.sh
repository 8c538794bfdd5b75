#!/bin/sh
# Runs the upstream sigstore-conformance suite's verification tests against
# `cvmtrust release verify-bundle`.
#
#   scripts/sigstore-conformance.sh [path to a sigstore-conformance checkout]
#
# Needs git, Python 3 with venv and network access to GitHub and PyPI. Without
# a checkout it clones github.com/sigstore/sigstore-conformance. Only the
# bundle-verify tests run (--skip-signing): signing needs an OIDC token, and
# cvmtrust only verifies. The same assets, copied into
# testdata/sigstore/conformance, run offline in `go test ./cmd/cvmtrust -run
# TestReleaseVerifyBundleConformance` and `go test ./sigstore -run TestConformance`.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

suite=${1:-}
if [ -z "$suite" ]; then
	git clone --depth 1 https://github.com/sigstore/sigstore-conformance "$work/sigstore-conformance"
	suite=$work/sigstore-conformance
fi

go build -o "$work/cvmtrust" "$root/cmd/cvmtrust"

# The conformance protocol calls ENTRYPOINT verify-bundle ...; cvmtrust has
# it as a subcommand of release.
cat >"$work/cvmtrust-conformance" <<WRAP
#!/bin/sh
cmd=\$1; shift
case \$cmd in
verify-bundle) exec "$work/cvmtrust" release verify-bundle "\$@" ;;
*) echo "cvmtrust-conformance: \$cmd is not supported (cvmtrust verifies only)" >&2; exit 2 ;;
esac
WRAP
chmod +x "$work/cvmtrust-conformance"

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet -r "$suite/requirements.txt"
cd "$suite"
"$work/venv/bin/pytest" -v test/test_bundle.py -k test_verify --skip-signing \
	--entrypoint="$work/cvmtrust-conformance"
