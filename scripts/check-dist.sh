#!/usr/bin/env bash
# Checks the artefacts of make dist: a PE32+ GUI-subsystem .exe with resources (icon,
# version info), and a Linux tarball with the binary, a .desktop file and the icon.
set -euo pipefail
cd "$(dirname "$0")/.."
exe=dist/MailSetup.exe
od=x86_64-w64-mingw32-objdump
# Whole outputs first: grep -q would stop reading early and pipefail would see SIGPIPE.
headers=$($od -x "$exe")
sections=$($od -h "$exe")
grep -q "Magic.*020b.*(PE32+)" <<<"$headers" || { echo "check-dist: $exe is not PE32+"; exit 1; }
grep -q "Subsystem.*(Windows GUI)" <<<"$headers" || { echo "check-dist: $exe is not a GUI-subsystem program"; exit 1; }
grep -q "\.rsrc" <<<"$sections" || { echo "check-dist: $exe has no resource section (icon)"; exit 1; }
$od -s -j .rsrc "$exe" > "${TMPDIR:-/tmp}/rsrc.$$" 2>/dev/null || true
rsrc=$(stat -c %s "${TMPDIR:-/tmp}/rsrc.$$"); rm -f "${TMPDIR:-/tmp}/rsrc.$$"
[ "$rsrc" -gt 2000 ] || { echo "check-dist: $exe resource section is too small for an icon ($rsrc bytes)"; exit 1; }
tarball=$(ls dist/MailSetup-*-linux-amd64.tar.xz | head -n1)
list=$(tar -tJf "$tarball")
for want in "usr/local/bin/mailsetup" ".desktop" "usr/local/share/pixmaps/"; do
  grep -q "$want" <<<"$list" || { echo "check-dist: $tarball lacks $want"; echo "$list"; exit 1; }
done
echo "check-dist: $exe is a PE32+ GUI executable with resources ($(du -h "$exe" | cut -f1)); $tarball has binary, .desktop and icon"
