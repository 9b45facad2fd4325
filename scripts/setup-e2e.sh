#!/usr/bin/env bash
# Installs what `npm run test:e2e` needs: Debian's Chromium, and code-server 4.100.3 (a real VS Code:
# server, web workbench and extension host) into the ignored folder .e2e/, apart from the extension's
# own dependencies. Works offline apart from the npm registry and Debian's packages: code-server's
# native modules are built from source and ripgrep comes from Debian.
# Safe to rerun: it does nothing when the same install is already in place.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$MEMLENS_ROOT"

E2E_DIR="$MEMLENS_ROOT/.e2e"
STAMP="$E2E_DIR/.installed"
VSCODE_DIR="$E2E_DIR/node_modules/code-server/lib/vscode"

# Bump when build_code_server changes, so an install made by the old steps is redone.
RECIPE_VERSION=1

install_fingerprint() {
  { echo "$RECIPE_VERSION"; cat scripts/e2e/package.json scripts/e2e/package-lock.json; } | sha256sum | cut -d' ' -f1
}

build_code_server() {
  set -euo pipefail
  cd "$E2E_DIR"
  # Its install script would fetch VS Code's dependencies in ways that need more than the
  # registry; the steps below do the same from the registry and from source.
  npm ci --ignore-scripts --no-audit --no-fund
  npm rebuild argon2
  cd "$VSCODE_DIR"
  npm install --omit=dev --ignore-scripts --no-audit --no-fund
  # @vscode/ripgrep's install script downloads its binary; Debian's rg takes its place.
  mkdir -p node_modules/@vscode/ripgrep/bin
  cp /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
  npm_config_yes=true npm rebuild --foreground-scripts
  ln -sfn node_modules node_modules.asar
  (cd bin/remote-cli && ln -sfn code-linux.sh code-server)
  (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
  cd extensions
  npm install --omit=dev --no-audit --no-fund
}

install_code_server() {
  local want
  want="$(install_fingerprint)"
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$E2E_DIR/node_modules/.bin/code-server" ]; then
    log "code-server already installed in .e2e/"
    return 0
  fi
  rm -rf "$E2E_DIR"
  mkdir -p "$E2E_DIR"
  cp scripts/e2e/package.json scripts/e2e/package-lock.json "$E2E_DIR/"
  log "building code-server's native modules (output in .e2e/install.log)"
  quietly "$E2E_DIR/install.log" build_code_server
  "$E2E_DIR/node_modules/.bin/code-server" --version >/dev/null
  printf '%s' "$want" > "$STAMP"
}

step "Debian packages (Chromium, code-server build tools)" ensure_debian_packages "${DEBIAN_E2E_PACKAGES[@]}"
step "code-server 4.100.3 in .e2e/" install_code_server
log "code-server: $("$E2E_DIR/node_modules/.bin/code-server" --version | head -1)"
log "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo missing)"
