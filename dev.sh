#!/usr/bin/env bash
# One entry point for a fresh clone: `bash dev.sh demo` runs the main job, `bash dev.sh test` runs
# every check and test. It brings its own toolchain when the machine's is too old: the pinned Node
# (the npm registry's `node` package) and the pinned pnpm go into .toolchain/ (git-ignored).
set -euo pipefail
# the network lab's tools (ip, iptables) live in sbin, which a non-login PATH may lack
case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH="$PATH:/usr/sbin:/sbin" ;; esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

NODE_VERSION="24.21.0"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' package.json)"
TOOLCHAIN="$ROOT/.toolchain"

log() { printf '\033[1m[dev]\033[0m %s\n' "$*" >&2; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_toolchain() {
  if [ -x "$TOOLCHAIN/node_modules/.bin/node" ]; then
    export PATH="$TOOLCHAIN/node_modules/.bin:$PATH"
  fi
  local have_pnpm=""
  if command -v pnpm >/dev/null 2>&1; then have_pnpm="$(pnpm --version 2>/dev/null || true)"; fi
  if [ "$(node_major)" -ge 22 ] && [ "$have_pnpm" = "$PNPM_VERSION" ]; then
    return
  fi
  command -v npm >/dev/null 2>&1 || { log "npm is needed to install the toolchain"; exit 1; }
  log "installing node@$NODE_VERSION and pnpm@$PNPM_VERSION into .toolchain/ (machine has node $(node --version 2>/dev/null || echo none), pnpm ${have_pnpm:-none})"
  mkdir -p "$TOOLCHAIN"
  [ -f "$TOOLCHAIN/package.json" ] || echo '{"private":true}' > "$TOOLCHAIN/package.json"
  # Node 20's npm cannot run under the installed node until PATH changes, so use the machine's npm here.
  (cd "$TOOLCHAIN" && npm install --no-save --no-audit --no-fund --loglevel=error \
    "node@$NODE_VERSION" "pnpm@$PNPM_VERSION" >/dev/null)
  export PATH="$TOOLCHAIN/node_modules/.bin:$PATH"
  [ "$(node_major)" -ge 22 ] || { log "node >= 22 still missing after install"; exit 1; }
  log "using node $(node --version), pnpm $(pnpm --version)"
}

ensure_deps() {
  export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
  log "pnpm install --frozen-lockfile"
  pnpm install --frozen-lockfile --reporter=append-only 2>&1 | tail -n 3 >&2
  log "building all packages"
  pnpm exec turbo run build --output-logs=errors-only >&2
}

# A command-line tool some tests need, from the Debian package that ships it: installed when
# missing and we are root (quiet, never fatal); a warning says what fails without it.
ensure_debian_tool() {
  local cmd="$1" package="$2" purpose="$3" without="$4"
  command -v "$cmd" >/dev/null 2>&1 && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing $cmd (Debian package $package) for $purpose"
    (apt-get install -y -qq "$package" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$package" >/dev/null 2>&1; }) || true
  fi
  command -v "$cmd" >/dev/null 2>&1 || log "warning: $cmd is missing; $without"
}

# The crypto tests check our ciphertexts against the `age` command-line tool.
ensure_age() { ensure_debian_tool age age "the age compatibility tests" "the compatibility tests will fail"; }
# The web console's tests drive a real browser: Debian's chromium (through playwright-core).
ensure_chromium() { ensure_debian_tool chromium chromium "the console's browser tests" "the console's browser tests will fail (as root) or be skipped"; }
# The network lab (packages/netlab) and the fault run filter traffic with iptables.
ensure_iptables() { ensure_debian_tool iptables iptables "the network lab" "the network lab tests will fail (as root) or be skipped"; }

cmd_test() {
  ensure_toolchain
  ensure_deps
  ensure_age
  ensure_chromium
  ensure_iptables
  local failed=0
  log "lint"; pnpm run -s lint || failed=1
  log "typecheck"; pnpm exec turbo run typecheck --output-logs=errors-only || failed=1
  log "dependency rule"; node scripts/check-deps.mjs || failed=1
  log "tests"
  mkdir -p .reports
  rm -f .reports/vitest.json
  pnpm exec vitest run --coverage --reporter=default --reporter=json --outputFile.json=.reports/vitest.json "$@" || failed=1
  node scripts/totals.mjs .reports/vitest.json || failed=1
  if [ "$failed" -ne 0 ]; then log "FAILED"; fi
  return "$failed"
}

cmd_demo() {
  ensure_toolchain
  ensure_deps
  if [ -f apps/node/dist/bin/chorus-node.js ]; then
    node apps/node/dist/bin/chorus-node.js demo "$@"
  else
    node scripts/ucxl-demo.mjs "$@"
  fi
}

case "${1:-}" in
  test) shift; cmd_test "$@" ;;
  demo) shift; cmd_demo "$@" ;;
  toolchain) ensure_toolchain; echo "export PATH=\"$TOOLCHAIN/node_modules/.bin:\$PATH\"" ;;
  exec) shift; ensure_toolchain; exec "$@" ;;
  *) echo "usage: bash dev.sh test|demo|toolchain|exec CMD..." >&2; exit 2 ;;
esac
