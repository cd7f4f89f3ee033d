#!/usr/bin/env bash
# make dist: the Linux tarball (fyne package) and the Windows GUI .exe (mingw-w64 cross
# build with icon and version info), checked after building. Metadata comes from the
# root FyneApp.toml, the one place it is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
toml() { sed -n "s/^ *$1 *= *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" FyneApp.toml | head -n1; }
NAME=$(toml Name); APPID=$(toml ID); VERSION=${VERSION:-$(toml Version)}; BUILD=$(toml Build)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS="-X main.version=$VERSION -X main.commit=$COMMIT"
FYNE=${FYNE:-$(command -v fyne || echo "$(go env GOPATH)/bin/fyne")}
[ -x "$FYNE" ] || go install fyne.io/tools/cmd/fyne@v1.7.4
mkdir -p dist
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# Linux: fyne package builds the binary and wraps it with a .desktop file and the icon.
( cd cmd/mailsetup && GOFLAGS="-ldflags=-X=main.version=$VERSION -X=main.commit=$COMMIT" \
  "$FYNE" package --os linux --release --name "$NAME" --app-id "$APPID" \
  --app-version "$VERSION" --app-build "$BUILD" --icon ../../assets/icon.png )
mv "cmd/mailsetup/$NAME.tar.xz" "dist/MailSetup-$VERSION-linux-amd64.tar.xz"

# Windows: a resource object with the icon, manifest and version info, linked into a
# GUI-subsystem executable (no console window).
go run ./scripts/winres -icon assets/icon.png -name "$NAME" -version "$VERSION" -out cmd/mailsetup/rsrc_windows_amd64.syso
GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc \
  go build -trimpath -ldflags "-H=windowsgui -s -w $LDFLAGS" -o dist/MailSetup.exe ./cmd/mailsetup
rm -f cmd/mailsetup/rsrc_windows_amd64.syso
if [ -n "${WINDOWS_SIGN_PFX:-}" ] && command -v osslsigncode >/dev/null; then
  osslsigncode sign -pkcs12 "$WINDOWS_SIGN_PFX" -pass "${WINDOWS_SIGN_PASS:-}" \
    -n "$NAME" -t http://timestamp.digicert.com -in dist/MailSetup.exe -out "$work/signed.exe"
  mv "$work/signed.exe" dist/MailSetup.exe
fi
scripts/check-dist.sh "$VERSION"
