#!/usr/bin/env bash
# Prints the URI of the Debian archive this machine's apt already uses (the one carrying the
# release itself, not -security or -updates), so nothing in the repository names a mirror host.
# Reads deb822 files in /etc/apt/sources.list.d/*.sources first, then one-line sources.list files.
# NESTBOX_DEBIAN_MIRROR overrides it (e.g. a local mirror or apt-cacher URL).
set -euo pipefail

if [ -n "${NESTBOX_DEBIAN_MIRROR:-}" ]; then echo "$NESTBOX_DEBIAN_MIRROR"; exit 0; fi

shopt -s nullglob
# deb822: stanzas separated by blank lines; take "URIs" of a "Types: deb" stanza whose Suites
# include a plain release name (no dash: bookworm, not bookworm-security).
for f in /etc/apt/sources.list.d/*.sources; do
  uri=$(awk '
    function flush() { if (deb && plain && uri != "") { print uri; found = 1; exit } deb = plain = 0; uri = "" }
    /^[[:space:]]*$/ { flush(); next }
    /^[[:space:]]*#/ { next }
    tolower($1) == "types:"  { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
    tolower($1) == "uris:"   { uri = $2 }
    tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i !~ /-/) plain = 1 }
    END { if (!found) flush() }
  ' "$f")
  if [ -n "$uri" ]; then echo "${uri%/}"; exit 0; fi
done

# one-line format: "deb [opts] URI SUITE COMPONENTS..."
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  uri=$(awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                          if ($(i + 1) !~ /-/) { print $i; exit } }' "$f")
  if [ -n "$uri" ]; then echo "${uri%/}"; exit 0; fi
done

echo "apt-mirror: no Debian archive found in the apt configuration (set NESTBOX_DEBIAN_MIRROR)" >&2
exit 1
