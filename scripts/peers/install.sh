#!/usr/bin/env bash
# Install the local Bluesky network used by Momento's peer tests.
#
# Everything goes into a cache folder outside any checkout:
#   ${MOMENTO_PEERS_DIR:-$HOME/.cache/momento/peers}
#     node/          Node 22 (from the npm package node-linux-<arch>)
#     app/           package.json, package-lock.json and node_modules with @atproto/dev-env
#     .stamp         hash of what was installed; when it matches, this script is a no-op
#
# Needs: npm (any version that runs on Node 22), a C/C++ toolchain, make and python3
# (better-sqlite3 has no prebuilt binary it can download here, so node-gyp builds it
# against the headers of the Node 22 package, via --nodedir).
#
# Usage: scripts/peers/install.sh [--force]
set -euo pipefail

NODE_VERSION="22.23.3"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEERS_DIR="${MOMENTO_PEERS_DIR:-$HOME/.cache/momento/peers}"
NODE_DIR="$PEERS_DIR/node"
APP_DIR="$PEERS_DIR/app"
STAMP="$PEERS_DIR/.stamp"

FORCE=0
if [[ "${1:-}" == "--force" ]]; then
    FORCE=1
fi

case "$(uname -m)" in
    x86_64 | amd64) NODE_ARCH="x64" ;;
    aarch64 | arm64) NODE_ARCH="arm64" ;;
    *)
        echo "install.sh: unsupported machine architecture $(uname -m)" >&2
        exit 1
        ;;
esac
NODE_PKG="node-linux-${NODE_ARCH}@${NODE_VERSION}"

want_stamp() {
    {
        echo "node=$NODE_PKG"
        cat "$HERE/package.json"
        if [[ -f "$HERE/package-lock.json" ]]; then
            cat "$HERE/package-lock.json"
        fi
    } | sha256sum | cut -d' ' -f1
}
WANT="$(want_stamp)"

is_installed() {
    [[ -f "$STAMP" ]] &&
        [[ "$(cat "$STAMP")" == "$WANT" ]] &&
        [[ -x "$NODE_DIR/bin/node" ]] &&
        [[ -f "$APP_DIR/node_modules/@atproto/dev-env/package.json" ]]
}

# Fast path, no lock needed.
if [[ $FORCE -eq 0 ]] && is_installed; then
    echo "momento peers: already installed in $PEERS_DIR"
    exit 0
fi

for tool in npm tar sha256sum make; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "install.sh: '$tool' is required but not found on PATH" >&2
        exit 1
    fi
done
if ! command -v c++ >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1; then
    echo "install.sh: a C++ compiler (g++) is required to build better-sqlite3" >&2
    exit 1
fi

mkdir -p "$PEERS_DIR"
# One installer at a time (parallel test runs may call this together).
exec 9>"$PEERS_DIR/.install.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9
fi
if [[ $FORCE -eq 0 ]] && is_installed; then
    echo "momento peers: already installed in $PEERS_DIR (by another run)"
    exit 0
fi

start=$SECONDS
rm -f "$STAMP"
WORK="$(mktemp -d "$PEERS_DIR/.work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# 1. Node 22 from the npm registry (a tarball with bin/node and include/node).
if [[ $FORCE -eq 1 ]] || [[ ! -x "$NODE_DIR/bin/node" ]] ||
    [[ "$("$NODE_DIR/bin/node" --version 2>/dev/null || true)" != "v$NODE_VERSION" ]]; then
    echo "momento peers: fetching $NODE_PKG"
    (cd "$WORK" && npm pack --silent "$NODE_PKG" >/dev/null)
    mkdir -p "$WORK/node-unpacked"
    tar -xzf "$WORK"/node-linux-*.tgz -C "$WORK/node-unpacked"
    "$WORK/node-unpacked/package/bin/node" --version >/dev/null
    rm -rf "$NODE_DIR"
    mv "$WORK/node-unpacked/package" "$NODE_DIR"
fi
echo "momento peers: node $("$NODE_DIR/bin/node" --version) at $NODE_DIR/bin/node"

# 2. @atproto/dev-env, installed by npm running on Node 22, native modules built
#    against Node 22's headers (--nodedir; it overrides a nodedir in ~/.npmrc).
echo "momento peers: installing @atproto/dev-env into $APP_DIR (about 2 minutes)"
mkdir -p "$WORK/app"
cp "$HERE/package.json" "$WORK/app/"
NPM_CMD=(install)
if [[ -f "$HERE/package-lock.json" ]]; then
    cp "$HERE/package-lock.json" "$WORK/app/"
    NPM_CMD=(ci)
fi
(
    cd "$WORK/app"
    export PATH="$NODE_DIR/bin:$PATH"
    export npm_config_nodedir="$NODE_DIR"
    npm "${NPM_CMD[@]}" --nodedir="$NODE_DIR" --no-audit --no-fund --loglevel=error
)

# 3. Check that the native module loads in Node 22 and that dev-env resolves.
(
    cd "$WORK/app"
    "$NODE_DIR/bin/node" -e '
        const Database = require("better-sqlite3");
        new Database(":memory:").prepare("select 1").get();
        require.resolve("@atproto/dev-env");
    '
)

rm -rf "$APP_DIR"
mv "$WORK/app" "$APP_DIR"
echo "$WANT" >"$STAMP"
echo "momento peers: installed in $((SECONDS - start)) s ($(du -sh "$APP_DIR" | cut -f1) in $APP_DIR)"
