# Sourced (not run) by the scripts that build, from the repository root.
#
# nginx's configure writes the object list of its Makefile with sed
# expressions applied one after another (auto/make: `.cpp`, `.cc`, `.c`,
# then `.S` sources to `$NGX_OBJS/... .o`). Once the `.c` one has put the
# build directory's absolute path in front of every object, the `.S` one
# rewrites any `.S` inside that path too, so when cargo's target directory
# lives under a path holding `.S` (a checkout in `/tmp/tmp.S3kx...` from
# `mktemp -d`, or `~/x.Shared/`), the Makefile names objects that cannot be
# built and the nginx-sys build fails. Such a checkout builds in a target
# directory of its own under ${TMPDIR:-/tmp} instead (unless
# CARGO_TARGET_DIR is set already).
if [ -z "${CARGO_TARGET_DIR:-}" ]; then
  case "$PWD/target" in
    *.S*)
      CARGO_TARGET_DIR="${TMPDIR:-/tmp}/ngx-api-abuse-target-$(id -u)-$(printf %s "$PWD" | sha256sum | cut -c1-12)"
      case "$CARGO_TARGET_DIR" in
        *.S*) echo "the checkout's path and \$TMPDIR both hold '.S', which nginx's configure cannot build in: set CARGO_TARGET_DIR" >&2; exit 1 ;;
      esac
      export CARGO_TARGET_DIR
      echo "target directory: $CARGO_TARGET_DIR (the checkout's path holds '.S', see ci/target-dir.sh)"
      ;;
  esac
fi
