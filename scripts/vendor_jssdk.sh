#!/usr/bin/env bash
# Vendor the real open-im-sdk browser bundle into the web demo, byte for byte.
#
# The SDK version is the one pinned by tests/e2e/package.json and package-lock.json (the
# end-to-end suite drives the same client). This installs it there with `npm ci` when it is
# missing, then copies the package's own UMD build (lib/index.umd.js, as published on npm)
# and its LICENSE into oimws/demo/static/vendor/. Never edit the copies by hand: change the
# pin in tests/e2e, run `npm install` there, and run this script again.
# tests/browser/test_vendor.py checks the copy against the installed package.
#
# Usage: scripts/vendor_jssdk.sh        (from anywhere; needs node and npm)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
e2e="$root/tests/e2e"
package="$e2e/node_modules/open-im-sdk"
vendor="$root/oimws/demo/static/vendor"

wanted=$(node -p "require('$e2e/package.json').dependencies['open-im-sdk']")
installed=$(node -p "try { require('$package/package.json').version } catch { '' }")
if [ "$installed" != "$wanted" ]; then
  echo "installing open-im-sdk@$wanted in tests/e2e (npm ci)"
  (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error)
  installed=$(node -p "require('$package/package.json').version")
fi
if [ "$installed" != "$wanted" ]; then
  echo "tests/e2e has open-im-sdk@$installed installed, package.json wants $wanted" >&2
  exit 1
fi

mkdir -p "$vendor"
install -m 644 "$package/lib/index.umd.js" "$vendor/open-im-sdk.umd.js"
install -m 644 "$package/LICENSE" "$vendor/open-im-sdk.LICENSE"
sha=$(sha256sum "$vendor/open-im-sdk.umd.js" | cut -d' ' -f1)
cat > "$vendor/open-im-sdk.json" <<JSON
{
  "package": "open-im-sdk",
  "version": "$installed",
  "file": "lib/index.umd.js",
  "sha256": "$sha",
  "license": "Apache-2.0",
  "vendoredBy": "scripts/vendor_jssdk.sh"
}
JSON
echo "vendored open-im-sdk@$installed lib/index.umd.js -> oimws/demo/static/vendor/ (sha256 $sha)"
