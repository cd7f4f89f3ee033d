#!/usr/bin/env bash
# On a Mac (the release workflow's macOS runner): builds "Mail Setup Assistant.app",
# zips it and wraps it in a .dmg. Usage: scripts/dist-macos.sh VERSION
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${1:-0.0.0}
toml() { sed -n "s/^ *$1 *= *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" FyneApp.toml | head -n1; }
NAME=$(toml Name); APPID=$(toml ID); BUILD=$(toml Build)
FYNE=${FYNE:-$(command -v fyne || echo "$(go env GOPATH)/bin/fyne")}
mkdir -p dist
export GOFLAGS="-buildvcs=auto -ldflags=-X=main.version=$VERSION"
( cd cmd/mailsetup && "$FYNE" package --os darwin --release --tags no_emoji --name "$NAME" --app-id "$APPID" \
  --app-version "$VERSION" --app-build "$BUILD" --icon ../../assets/icon.png )
mv "cmd/mailsetup/$NAME.app" "dist/$NAME.app"
( cd dist && ditto -c -k --keepParent "$NAME.app" "MailSetup-$VERSION-macos.zip" )
hdiutil create -volname "$NAME" -srcfolder "dist/$NAME.app" -ov -format UDZO "dist/MailSetup-$VERSION-macos.dmg"
rm -rf "dist/$NAME.app"
