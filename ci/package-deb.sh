#!/usr/bin/env bash
# Builds libnginx-mod-http-api-abuse_<version>_<arch>.deb for the nginx that
# Debian (or Ubuntu) ships, laid out like the distribution's own module
# packages (libnginx-mod-http-echo and friends):
#
#   /usr/lib/nginx/modules/ngx_http_api_abuse_module.so
#   /usr/share/nginx/modules-available/mod-http-api-abuse.conf
#   /etc/nginx/modules-enabled/50-mod-http-api-abuse.conf   (symlink, made by postinst)
#   /usr/share/doc/libnginx-mod-http-api-abuse/examples/     (profiles file, nginx snippet)
#   /etc/logrotate.d/nginx-api-abuse                         (the events file, conffile)
#   Depends: nginx-abi-<version>-<n>                          (from nginx-dev's abisubstvars)
#
# The module is compiled against the source tree and configure flags that
# nginx-dev ships (/usr/share/nginx/src, conf_flags): the exact nginx the
# package depends on. nginx-dev is installed when missing.
#
#   ci/package-deb.sh [OUTDIR]      (default: target/deb)
#
# The release build takes a few minutes the first time; it runs under nice
# with its own CARGO_TARGET_DIR (target/deb) so it leaves target/ alone.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
OUT=$(realpath -m "${1:-target/deb}")
SRC=/usr/share/nginx/src
PKG=libnginx-mod-http-api-abuse

ci/deps.sh
need=()
for p in nginx-dev dpkg-dev; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
[ -f "$SRC/conf_flags" ] || { echo "$SRC/conf_flags not found: nginx-dev too old?" >&2; exit 1; }

# The nginx ABI the package depends on, the way dh_nginx declares it.
ABI=$(sed -n 's/^nginx:abi=//p' "$SRC/debian/libnginx-mod.abisubstvars")
[ -n "$ABI" ] || { echo "no nginx:abi in $SRC/debian/libnginx-mod.abisubstvars" >&2; exit 1; }
NGINX_VERSION=$(sed -n 's/^#define NGINX_VERSION *"\(.*\)"/\1/p' "$SRC/src/core/nginx.h")
UPSTREAM=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
VERSION="${UPSTREAM}-1+nginx${NGINX_VERSION}"
ARCH=$(dpkg --print-architecture)
echo "package $PKG $VERSION for nginx $NGINX_VERSION ($ABI), $ARCH"

# 1. A configured copy of the packaged nginx tree (configure only: the
#    module needs the generated headers, not a built nginx).
TREE="$OUT/nginx-$NGINX_VERSION"
mkdir -p "$OUT"
if [ ! -f "$TREE/objs/ngx_auto_config.h" ] || [ "$SRC/conf_flags" -nt "$TREE/objs/ngx_auto_config.h" ]; then
  rm -rf "$TREE"
  cp -a "$SRC" "$TREE"
  (cd "$TREE" && . ./conf_flags && ./configure "${NGX_CONF_FLAGS[@]}" >"$OUT/configure.log" 2>&1) \
    || { echo "configure failed, see $OUT/configure.log" >&2; exit 1; }
fi

# 2. The module against it.
export CARGO_TARGET_DIR="$OUT/cargo"
NGINX_BUILD_DIR="$TREE/objs" NGINX_SOURCE_DIR="$TREE" \
  nice -n 10 cargo build --release --no-default-features --features module
SO="$CARGO_TARGET_DIR/release/libngx_http_api_abuse_module.so"

# 3. The package tree.
ROOT="$OUT/root"
rm -rf "$ROOT"
DOC="$ROOT/usr/share/doc/$PKG"
install -d "$ROOT/DEBIAN" "$ROOT/usr/lib/nginx/modules" "$ROOT/usr/share/nginx/modules-available" "$DOC/examples"
install -m 0644 "$SO" "$ROOT/usr/lib/nginx/modules/ngx_http_api_abuse_module.so"
strip --strip-unneeded "$ROOT/usr/lib/nginx/modules/ngx_http_api_abuse_module.so"
install -m 0644 debian/mod-http-api-abuse.conf "$ROOT/usr/share/nginx/modules-available/"
install -m 0644 debian/copyright "$DOC/copyright"
install -m 0644 debian/examples/* "$DOC/examples/"
install -m 0644 README.md "$DOC/README.md"
gzip -9n "$DOC/README.md"
printf '%s (%s) unstable; urgency=medium\n\n  * Built against nginx %s (%s).\n\n -- ngx_http_api_abuse_module developers <nobody@localhost>  %s\n' \
  "$PKG" "$VERSION" "$NGINX_VERSION" "$ABI" "$(date -R -u -d @"$(git log -1 --format=%ct 2>/dev/null || date +%s)")" \
  | gzip -9n > "$DOC/changelog.Debian.gz"
install -m 0755 debian/postinst debian/prerm debian/postrm "$ROOT/DEBIAN/"
# the events file is .jsonl, which Debian's /etc/logrotate.d/nginx (*.log) misses
install -d "$ROOT/etc/logrotate.d"
install -m 0644 debian/logrotate "$ROOT/etc/logrotate.d/nginx-api-abuse"
echo /etc/logrotate.d/nginx-api-abuse > "$ROOT/DEBIAN/conffiles"

# Shared-library dependencies of the .so, as dh_shlibdeps would compute them.
SHLIBS=$(cd "$OUT" && mkdir -p shlibs/debian && printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PKG" "$PKG" > shlibs/debian/control \
  && cd shlibs && dpkg-shlibdeps -O "$ROOT/usr/lib/nginx/modules/ngx_http_api_abuse_module.so" 2>/dev/null \
  | sed -n 's/^shlibs:Depends=//p')
[ -n "$SHLIBS" ] || SHLIBS="libc6"
SIZE=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE/" -e "s/@ABI@/$ABI/g" \
    -e "s/@SHLIBS@/$SHLIBS/" -e "s/@NGINX_VERSION@/$NGINX_VERSION/" \
    debian/control.in > "$ROOT/DEBIAN/control"
(cd "$ROOT" && find usr -type f -print0 | sort -z | xargs -0 md5sum > DEBIAN/md5sums)

DEB="$OUT/${PKG}_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$DEB" >/dev/null
echo "built $DEB"
dpkg-deb --info "$DEB" | sed -n '/Package:/,$p'
dpkg-deb --contents "$DEB"
