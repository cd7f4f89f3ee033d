#!/usr/bin/env bash
# make dist: the Linux tarball and the Windows GUI .exe, both built with `fyne package`
# (the Windows one cross-compiled with Debian's mingw-w64), then checked by check-dist.sh.
# Metadata comes from the root FyneApp.toml, the one place it is kept; fyne reads
# FyneApp.toml only from the main package's folder, so it is passed as flags.
set -euo pipefail
cd "$(dirname "$0")/.."
toml() { sed -n "s/^ *$1 *= *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" FyneApp.toml | head -n1; }
NAME=$(toml Name); APPID=$(toml ID); VERSION=${VERSION:-$(toml Version)}; BUILD=$(toml Build)
VERSION=${VERSION#v}
case "$VERSION" in [0-9]*.[0-9]*.[0-9]*) ;; *) VERSION=$(toml Version) ;; esac
FYNE=${FYNE:-$(command -v fyne || echo "$(go env GOPATH)/bin/fyne")}
[ -x "$FYNE" ] || go install fyne.io/tools/cmd/fyne@v1.7.4
mkdir -p dist
export GOFLAGS="-buildvcs=auto -ldflags=-X=main.version=$VERSION"  # the commit comes from the VCS stamp
pkg() { ( cd cmd/mailsetup && "$FYNE" package --release --tags no_emoji --name "$NAME" --app-id "$APPID" \
  --app-version "$VERSION" --app-build "$BUILD" --icon ../../assets/icon.png "$@" ); }

echo "dist: linux"
pkg --os linux
mv "cmd/mailsetup/$NAME.tar.xz" "dist/MailSetup-$VERSION-linux-amd64.tar.xz"

echo "dist: windows"
CC=x86_64-w64-mingw32-gcc CGO_ENABLED=1 pkg --os windows
mv "cmd/mailsetup/$NAME.exe" dist/MailSetup.exe
if [ -n "${WINDOWS_SIGN_PFX:-}" ]; then
  # Optional signing; the certificate comes from the environment, never the repository.
  osslsigncode sign -pkcs12 "$WINDOWS_SIGN_PFX" -pass "${WINDOWS_SIGN_PASS:-}" -n "$NAME" \
    -in dist/MailSetup.exe -out dist/MailSetup.signed.exe
  mv dist/MailSetup.signed.exe dist/MailSetup.exe
fi
scripts/check-dist.sh
