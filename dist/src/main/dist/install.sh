#!/usr/bin/env bash
# Installs this Infraveil release (the directory this script is in) on this machine:
#
#   /opt/infraveil/releases/VERSION-HASH/   this release, never changed once installed
#   /opt/infraveil/current  -> releases/... the release the systemd units run
#   /opt/infraveil/previous -> releases/... the one before, kept for a rollback
#   /usr/local/bin/infraveil                -> /opt/infraveil/current/bin/infraveil
#   /etc/infraveil/controlplane.yaml, launcher.yaml   examples, written only when missing
#   /etc/infraveil/pki/                      the control plane's PKI directory (0700)
#   /var/lib/infraveil/                      data dirs (controlplane/, launcher/)
#   /etc/systemd/system/infraveil-controlplane.service, infraveil-launcher.service
#
# Running it again is safe: an identical release is not installed twice, an existing config
# file is never overwritten, nothing is started or restarted. A new release goes into a new
# directory beside the running one, so running agents keep the files they were started from;
# only `systemctl restart` moves a program onto it (docs/install.md, "Upgrades").
#
# Usage: install.sh [--root DIR]
#   --root DIR   install below DIR instead of / (a scratch root: no account is created and
#                systemd is not told; the files are laid out as they would be on /).
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

ROOT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) [[ $# -ge 2 ]] || { echo "error: --root needs a directory" >&2; exit 2; }
            ROOT="$2"; shift 2 ;;
    --root=*) ROOT="${1#--root=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1' (install.sh --help)" >&2; exit 2 ;;
  esac
done

SRC="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd -P)"
if [[ ! -f "$SRC/VERSION" || ! -x "$SRC/bin/infraveil" || ! -d "$SRC/lib/host" ]]; then
  echo "error: $SRC is not an extracted Infraveil release (VERSION, bin/infraveil, lib/host)" >&2
  exit 1
fi
if [[ -z "$ROOT" && "$(id -u)" -ne 0 ]]; then
  echo "error: installing into / needs root: run with sudo, or pass --root DIR" >&2
  exit 1
fi
if [[ -n "$ROOT" ]]; then
  mkdir -p "$ROOT"
  ROOT="$(cd "$ROOT" && pwd -P)"
fi

VERSION="$(tr -d '[:space:]' < "$SRC/VERSION")"
# The content decides the directory: the same files install once, a rebuilt release with the
# same version number still gets a directory of its own.
HASH="$(cd "$SRC" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum \
  | sha256sum | cut -c1-8)"
NAME="$VERSION-$HASH"
OPT="$ROOT/opt/infraveil"
ETC="$ROOT/etc/infraveil"
VAR="$ROOT/var/lib/infraveil"
UNITS="$ROOT/etc/systemd/system"

say() { printf 'install: %s\n' "$*"; }

# ---- the release
mkdir -p "$OPT/releases"
if [[ -d "$OPT/releases/$NAME" ]]; then
  say "release $NAME is already in $OPT/releases/$NAME"
else
  tmp="$OPT/releases/.$NAME.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp -a "$SRC/." "$tmp/"
  chmod -R go-w "$tmp"
  mv -T "$tmp" "$OPT/releases/$NAME"
  say "installed release $NAME in $OPT/releases/$NAME"
fi

current_target="$(readlink "$OPT/current" 2>/dev/null || true)"
if [[ "$current_target" != "releases/$NAME" ]]; then
  if [[ -n "$current_target" ]]; then
    ln -sfn "$current_target" "$OPT/.previous.tmp"
    mv -Tf "$OPT/.previous.tmp" "$OPT/previous"
  fi
  # A rename is atomic: a program started at any moment sees one release or the other.
  ln -sfn "releases/$NAME" "$OPT/.current.tmp"
  mv -Tf "$OPT/.current.tmp" "$OPT/current"
  say "current -> releases/$NAME${current_target:+ (previous -> $current_target)}"
fi

mkdir -p "$ROOT/usr/local/bin"
ln -sfn "../../../opt/infraveil/current/bin/infraveil" "$ROOT/usr/local/bin/infraveil"

# ---- releases no longer needed: neither current nor previous, and no process runs from them
in_use() {
  local dir="$1" cmdline
  for cmdline in /proc/[0-9]*/cmdline; do
    if tr '\0' ' ' < "$cmdline" 2>/dev/null | grep -qF -- "$dir/"; then
      return 0
    fi
  done
  return 1
}
keep_previous="$(readlink "$OPT/previous" 2>/dev/null || true)"
for dir in "$OPT"/releases/*/; do
  dir="${dir%/}"
  rel="releases/$(basename "$dir")"
  if [[ "$rel" == "releases/$NAME" || "$rel" == "$keep_previous" ]]; then
    continue
  fi
  if in_use "$dir"; then
    say "kept $rel: a running process still uses it"
  else
    rm -rf "$dir"
    say "removed $rel (no longer current, previous or in use)"
  fi
done

# ---- configuration: examples only where nothing is there yet
mkdir -p "$ETC"
for file in controlplane.yaml launcher.yaml; do
  if [[ -e "$ETC/$file" ]]; then
    say "kept $ETC/$file (existing configuration is never overwritten; the example is in $OPT/current/config/$file)"
  else
    install -m 0644 "$SRC/config/$file" "$ETC/$file"
    say "wrote $ETC/$file"
  fi
done
if [[ ! -d "$ETC/pki" ]]; then
  install -d -m 0700 "$ETC/pki"
fi

# ---- data dirs (systemd's StateDirectory= makes them too, with the unit's owner)
install -d -m 0755 "$VAR"
[[ -d "$VAR/controlplane" ]] || install -d -m 0700 "$VAR/controlplane"
[[ -d "$VAR/launcher" ]] || install -d -m 0711 "$VAR/launcher"

# ---- systemd units: part of the release, replaced by each install (customize with drop-ins)
mkdir -p "$UNITS"
units_changed=0
for unit in infraveil-controlplane.service infraveil-launcher.service; do
  if ! cmp -s "$SRC/systemd/$unit" "$UNITS/$unit"; then
    install -m 0644 "$SRC/systemd/$unit" "$UNITS/$unit"
    units_changed=1
    say "wrote $UNITS/$unit"
  fi
done

# ---- the account and systemd, on a real root only
if [[ -z "$ROOT" ]]; then
  if ! getent passwd infraveil > /dev/null; then
    useradd --system --home-dir /var/lib/infraveil --no-create-home \
      --shell /usr/sbin/nologin --user-group infraveil
    say "created the system account infraveil (runs the control plane)"
  fi
  chown -R infraveil:infraveil "$ETC/pki" "$VAR/controlplane"
  if [[ "$units_changed" -eq 1 && -d /run/systemd/system ]]; then
    systemctl daemon-reload
    say "systemctl daemon-reload"
  fi
else
  say "scratch root $ROOT: no account created, systemd not told"
fi

if ! command -v java > /dev/null && [[ -z "${JAVA_HOME:-}" ]]; then
  say "warning: no java on the PATH: install a JDK 17 or newer (Debian: openjdk-17-jre-headless)"
fi

cat <<EOF
install: done. Next (docs/install.md):
  control plane host:  infraveil certs init --dir /etc/infraveil/pki
                       infraveil certs issue --dir /etc/infraveil/pki --server controlplane --san NAME --san IP
                       systemctl enable --now infraveil-controlplane
  worker host:         (set control-plane: and ca: in /etc/infraveil/launcher.yaml)
                       infraveil launcher enroll --config /etc/infraveil/launcher.yaml --token T --name N --data-dir /var/lib/infraveil/launcher
                       systemctl enable --now infraveil-launcher
  upgrade:             install.sh of the new release, then systemctl restart infraveil-launcher
                       (agents and services keep running) or infraveil-controlplane
EOF
