#!/usr/bin/env bash
# Installs and tests nestbox inside a Vagrant machine, as root, in the synced copy of the project.
# Called by the Vagrantfile's provisioner with:
#   NESTBOX_CGROUP=1|2     the cgroup version this machine is meant to have (checked, not set here)
#   NESTBOX_OFFLINE=1      the box has no network: node_modules came with the synced folder, skip npm ci
#   NESTBOX_TESTS=full|quick|none   full: `npm test`; quick: the integration tests (default offline)
#   NESTBOX_AVA_ARGS       extra ava arguments (the Vagrantfile passes --concurrency=1 under TCG)
set -euo pipefail
cd "${NESTBOX_SRC:-/vagrant}"
here=vm/vagrant
tests=${NESTBOX_TESTS:-full}
t0=$(date +%s)
step() { echo "== $1 ($(( $(date +%s) - t0 )) s)"; }

cgroup=1
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && cgroup=2
step "kernel $(uname -r), cgroup v$cgroup, $(. /etc/os-release && echo "$PRETTY_NAME")"
if [ -n "${NESTBOX_CGROUP:-}" ] && [ "$NESTBOX_CGROUP" != "$cgroup" ]; then
  echo "provision: this machine should run cgroup v$NESTBOX_CGROUP but runs v$cgroup" >&2
  exit 1
fi

bash "$here/guest-node.sh"
step "host setup"
bash scripts/setup-host.sh

if [ -n "${NESTBOX_OFFLINE:-}" ]; then
  [ -d node_modules ] || { echo "provision: offline and no node_modules synced" >&2; exit 1; }
  step "build (offline: node_modules came with the synced folder)"
  npm run --silent build
else
  step "npm ci (builds native/ and the TypeScript through the prepare script)"
  npm ci --no-audit --no-fund
fi

case $tests in
  full)
    step "npm test"
    npm test -- ${NESTBOX_AVA_ARGS:-} ;;
  quick)
    step "integration tests"
    node test/run.mjs ${NESTBOX_AVA_ARGS:-} ${NESTBOX_TEST_FILES:-dist/test/integration/*.test.js} ;;
  none) ;;
  *) echo "provision: NESTBOX_TESTS must be full, quick or none" >&2; exit 2 ;;
esac
step "done"
