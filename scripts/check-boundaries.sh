#!/usr/bin/env bash
# Fails when a package imports across a boundary the design forbids.
set -euo pipefail
fail=0
for pkg in ./detect/... ./export/... ./batch/... ./i18n/... ./clients/... ./netmemory/... ./cmd/mailsetup/cli/...; do
  for p in $(go list "$pkg" 2>/dev/null); do
    if go list -deps "$p" | grep -q '^fyne.io/'; then
      echo "boundary: $p imports Fyne" >&2; fail=1
    fi
  done
done
# Leaf packages detect may import: they must not import detect (or anything that does).
for pkg in ./detect/autodiscover ./detect/knowledge/clientconfig; do
  if [ -d "$pkg" ] && go list -deps "$pkg" | grep -qx 'github.com/mailsetup/mailsetup/detect'; then
    echo "boundary: $pkg imports detect" >&2; fail=1
  fi
done
if ls gui/*.go >/dev/null 2>&1; then
  # Fyne itself pulls in net, so the rule is about gui's own imports.
  direct=$(go list -f '{{join .Imports "\n"}}' ./gui/... | grep -E '^(net|crypto/tls|github.com/emersion/go-smtp|github.com/emersion/go-imap/v2.*|github.com/knadh/go-pop3)$' || true)
  if [ -n "$direct" ]; then echo "boundary: gui imports $direct" >&2; fail=1; fi
fi
# detect/oauth stands alone (nothing of this module), and the test issuer it is tested
# against (detect/oauth/oauthtest, zitadel/oidc) never reaches the shipped binary.
if go list -f '{{join .Imports "\n"}}' ./detect/oauth | grep -q '^github.com/mailsetup/'; then
  echo "boundary: detect/oauth imports a package of this module" >&2; fail=1
fi
if go list -deps ./cmd/mailsetup | grep -qE '^github.com/zitadel/|/detect/oauth/oauthtest$'; then
  echo "boundary: the mailsetup binary links the test issuer (zitadel/oidc)" >&2; fail=1
fi
exit $fail
