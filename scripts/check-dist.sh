#!/usr/bin/env bash
# Checks the artefacts of make dist: a PE32+ GUI-subsystem .exe with resources (icon,
# version info), and a Linux tarball with the binary, a .desktop file and the icon.
set -euo pipefail
cd "$(dirname "$0")/.."
exe=dist/MailSetup.exe
od=x86_64-w64-mingw32-objdump
$od -x "$exe" | grep -q "Magic.*020b.*PE32+" || { echo "check-dist: $exe is not PE32+"; exit 1; }
$od -x "$exe" | grep -q "Subsystem.*(Windows GUI)" || { echo "check-dist: $exe is not a GUI-subsystem program"; exit 1; }
$od -h "$exe" | grep -q "\.rsrc" || { echo "check-dist: $exe has no resource section (icon)"; exit 1; }
strings -el "$exe" | grep -q "Mail Setup Assistant" || { echo "check-dist: $exe lacks version info naming the product"; exit 1; }
tarball=$(ls dist/MailSetup-*-linux-amd64.tar.xz | head -n1)
list=$(tar -tJf "$tarball")
for want in "usr/local/bin/mailsetup" ".desktop" "usr/local/share/pixmaps/"; do
  grep -q "$want" <<<"$list" || { echo "check-dist: $tarball lacks $want"; echo "$list"; exit 1; }
done
echo "check-dist: $exe is a PE32+ GUI executable with resources ($(du -h "$exe" | cut -f1)); $tarball has binary, .desktop and icon"
