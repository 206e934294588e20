#!/usr/bin/env bash
# Builds infraveil_VERSION_all.deb from the staged release tree (the same tree as the
# tarball). The package holds the release in /usr/lib/infraveil/release/ and, when configured,
# runs that release's install.sh: the installed layout, the upgrade rules and the
# never-overwritten configuration are the tarball's (docs/install.md). Nothing runs from
# /usr/lib/infraveil/release itself: dpkg replaces those files in place on an upgrade, while
# agents keep running on the copy under /opt/infraveil/releases/ they were started from.
#
# Usage: build-deb.sh STAGE_DIR MAVEN_VERSION OUT_DIR
set -euo pipefail

STAGE="$1"
VERSION="$2"
OUT="$3"
# Debian orders 0.1.0~SNAPSHOT before 0.1.0, as Maven does.
DEB_VERSION="${VERSION/-SNAPSHOT/~SNAPSHOT}"

ROOT="$OUT/deb-root"
rm -rf "$ROOT"
mkdir -p "$ROOT/DEBIAN" "$ROOT/usr/lib/infraveil"
cp -a "$STAGE" "$ROOT/usr/lib/infraveil/release"
chmod 0755 "$ROOT/usr/lib/infraveil/release/bin/infraveil" "$ROOT/usr/lib/infraveil/release/install.sh"
SIZE_KB="$(du -sk "$ROOT/usr" | cut -f1)"

cat > "$ROOT/DEBIAN/control" <<CONTROL
Package: infraveil
Version: $DEB_VERSION
Architecture: all
Maintainer: Infraveil <infraveil@localhost>
Depends: bash, coreutils, tar, passwd, java17-runtime-headless
Installed-Size: $SIZE_KB
Section: admin
Priority: optional
Description: deploys and supervises services on servers you own
 A control plane holds the desired state; one launcher per host and one agent
 per deployment carry it out over gRPC with mutual TLS. This package installs
 the release under /opt/infraveil with systemd units for the control plane and
 the launcher; it starts nothing.
CONTROL

cat > "$ROOT/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
# Lays the release out under /opt/infraveil (a new directory beside any running release),
# writes example configuration only where none exists, installs the units. Starts nothing.
set -e
if [ "$1" = "configure" ]; then
  /usr/lib/infraveil/release/install.sh
fi
exit 0
POSTINST

cat > "$ROOT/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
# Running agents and services may still use /opt/infraveil: a remove leaves it. A purge
# removes the programs and units; /etc/infraveil (the PKI, CA key included) and
# /var/lib/infraveil (databases, host identities) are kept: remove them by hand.
set -e
if [ "$1" = "purge" ]; then
  rm -rf /opt/infraveil /usr/local/bin/infraveil \
    /etc/systemd/system/infraveil-controlplane.service \
    /etc/systemd/system/infraveil-launcher.service
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
  fi
fi
exit 0
POSTRM
chmod 0755 "$ROOT/DEBIAN/postinst" "$ROOT/DEBIAN/postrm"

mkdir -p "$OUT"
DEB="$OUT/infraveil_${DEB_VERSION}_all.deb"
dpkg-deb --root-owner-group -Zgzip -z1 --build "$ROOT" "$DEB" > /dev/null
rm -rf "$ROOT"
echo "$DEB"
