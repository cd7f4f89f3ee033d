#!/usr/bin/env bash
# Installs what Mail Setup Assistant needs on Debian/Ubuntu: `install-deps.sh run` only
# what building and running the program needs (make run), `install-deps.sh test` (the
# default) also the mail servers and tools of the tests and the Windows cross-compiler.
# Idempotent: does nothing when every package is already there.
set -euo pipefail
what=${1:-test}

pkgs=(
  # Fyne (cgo, OpenGL, X11): building and running the window
  gcc pkg-config libgl1-mesa-dev xorg-dev
)
[ "$what" = run ] || pkgs+=(
  # a virtual display for the window smoke test
  xvfb xauth x11-utils xdotool imagemagick
  # real mail servers and tools for the integration tests
  postfix dovecot-core dovecot-imapd dovecot-pop3d swaks
  libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl libdigest-hmac-perl
  dnsmasq-base dnsutils
  # network namespaces for the port-25 tests
  iproute2 iptables
  # independent parsers for export checks; openssl verifies signed Apple profiles
  python3 openssl
  # Windows cross-compilation for make dist
  gcc-mingw-w64-x86-64
  wine wine64  # test only: runs dist/MailSetup.exe for make windows-smoke (no i386 needed)
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "install-deps: not a Debian/Ubuntu system; install these yourself: ${missing[*]}" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Postfix asks questions during install unless told the answers.
echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
