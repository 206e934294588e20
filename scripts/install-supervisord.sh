#!/usr/bin/env bash
# Installs Debian's supervisor package (supervisord, the side-by-side anchor of the crash-restart
# benchmark) into .tools/supervisor/ at the repo root: `apt-get download` and `dpkg -x`, so
# nothing is installed system-wide and no system supervisord service is started. Its Python
# dependency pkg_resources comes the same way. Needs apt (as root it runs `apt-get update` when
# the package lists lack supervisor) and /usr/bin/python3. Prints a command that runs
# supervisord.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$ROOT/.tools/supervisor"
RUN="$PREFIX/supervisord"

if [[ -x "$RUN" ]] && "$RUN" --version >/dev/null 2>&1; then
  echo "$RUN"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
  echo "install-supervisord: apt-get and dpkg not found; this script needs a Debian-based system" >&2
  exit 1
fi
if [[ ! -x /usr/bin/python3 ]]; then
  echo "install-supervisord: /usr/bin/python3 not found; install Debian's python3 first" >&2
  exit 1
fi

mkdir -p "$PREFIX/debs" "$PREFIX/root"
download() {
  (cd "$PREFIX/debs" && apt-get download supervisor python3-pkg-resources >&2)
}
# A fresh machine has no package lists yet: as root, fetch them once and try again.
if ! download && { [[ "$(id -u)" != 0 ]] || ! apt-get update -qq >&2 || ! download; }; then
  echo "install-supervisord: apt-get download failed; run 'apt-get update' and try again" >&2
  exit 1
fi
for deb in "$PREFIX"/debs/*.deb; do
  dpkg -x "$deb" "$PREFIX/root"
done

cat >"$RUN" <<SH
#!/bin/sh
# supervisord from Debian's package, unpacked under $PREFIX/root.
PYTHONPATH="$PREFIX/root/usr/lib/python3/dist-packages\${PYTHONPATH:+:\$PYTHONPATH}" \\
  exec /usr/bin/python3 -m supervisor.supervisord "\$@"
SH
cat >"$PREFIX/supervisorctl" <<SH
#!/bin/sh
PYTHONPATH="$PREFIX/root/usr/lib/python3/dist-packages\${PYTHONPATH:+:\$PYTHONPATH}" \\
  exec /usr/bin/python3 -m supervisor.supervisorctl "\$@"
SH
chmod +x "$RUN" "$PREFIX/supervisorctl"

if ! "$RUN" --version >/dev/null; then
  echo "install-supervisord: unpacked supervisor but '$RUN --version' fails" >&2
  exit 1
fi
echo "$RUN"
