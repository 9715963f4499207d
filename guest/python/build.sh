#!/usr/bin/env bash
# guest/python/build.sh: python.wasm and its stdlib, from Debian's own source
# package of CPython 3.11 (plus Debian's zlib), cross-built for wasm32-wasi
# (WASI preview 1) with Debian's clang-19 and wasi-libc.
#
# Usage: guest/python/build.sh [--force] [--jobs N]
#   --force   ignore the stamps and rebuild everything from the sources
#   --jobs N  parallel compile jobs (default 2, or $PYLON_JOBS)
# $PYLON_PYTHON_BUILD_DIR overrides the output directory (default build/python).
#
# Results, under build/python/ of the repository (see guest/python/README.md):
#   python.wasm          the interpreter; exports _start, memory, cabi_realloc
#   lib/python3.11/      the stdlib, trimmed, .pyc precompiled (unchecked-hash);
#                        mount it read-only at /usr/lib/python3.11 (the
#                        compiled-in prefix is /usr; PYTHONHOME=/usr)
#   testlib/test/        CPython's regression suite (Lib/test of the same
#                        source), .pyc precompiled; NOT part of the stdlib:
#                        mount it only to run the tests (docs/python.md)
#   python.wasm.txt      what was built: pins, sizes, imports, wasm features
#   logs/                the verbose output of every step
#
# The script is the source of truth; `make python` only calls it.  It runs as
# root (or uses sudo) only to add the deb-src entry and install packages.
set -euo pipefail

# ---------------------------------------------------------------- pins ----
# The exact Debian source uploads this build is made from.  The version must
# be offered by apt (`apt-cache showsrc <pkg>`); the .dsc digest pins the
# upload, and dpkg-source checks the tarballs against the .dsc.  When Debian
# moves on, step 2 fails and says what to write here.
PY_SRC_PKG=python3.11
PY_SRC_VERSION=3.11.2-6+deb12u8
PY_SRC_DSC_SHA256=197fa19ab45f41c820f40f6d9ead671c2ea29ddc53ba9424b36f1bf58458a10e
ZLIB_SRC_PKG=zlib
ZLIB_SRC_VERSION=1:1.2.13.dfsg-1
ZLIB_SRC_DSC_SHA256=3fa1e6b2fc525062aa88207dda52fed8e045373c809d362fe8a2bfbf7cf515a8

PY_XY=3.11                          # Debian's python3.11 is the build python
# Where python.wasm expects itself in the guest's file system: sys.prefix, and
# the stdlib at $GUEST_PREFIX/lib/python3.11 (as on Debian).
GUEST_PREFIX=/usr
BUILD_PYTHON=/usr/bin/python$PY_XY  # not whatever `python3` is first in PATH

# Packages the build needs (installed when missing).
HOST_PKGS=(python3.11 dpkg-dev autoconf pkg-config make patch xz-utils bzip2
           clang-19 lld-19 llvm-19 wasi-libc libclang-rt-19-dev-wasm32 wabt)
# Their versions are part of the stamp: a toolchain update rebuilds.
STAMP_PKGS=(python3.11 clang-19 lld-19 llvm-19 wasi-libc libclang-rt-19-dev-wasm32)

# Code generation: the WebAssembly MVP plus sign-extension operators, nothing
# else (no reference-types encodings, no bulk memory, no SIMD): what our engine
# and wasm2c both accept.  -O2 rather than CPython's usual -O3, for smaller
# code (the speed difference under our engines has not been measured).
WASM_CPU_FLAGS="-mcpu=mvp -msign-ext"
WASM_OPT="-DNDEBUG -fwrapv -O2"
# Features the finished python.wasm may use beyond the MVP (step 8 checks),
# by LLVM's names; the wabt flag that turns each one off in wasm-validate.
ALLOWED_FEATURES=(sign-ext)
declare -A WABT_DISABLE=(
  [sign-ext]=--disable-sign-extension [mutable-globals]=--disable-mutable-globals
  [nontrapping-fptoint]=--disable-saturating-float-to-int [simd128]=--disable-simd
  [multivalue]=--disable-multi-value [bulk-memory]=--disable-bulk-memory
  [reference-types]=--disable-reference-types
)

# What python.wasm must export (step 9 checks): the WASI entry point and
# memory, the canonical-ABI allocator, and the hook for Ctrl-C.
REQUIRED_EXPORTS=(_start memory cabi_realloc PyErr_SetInterrupt)

# Stdlib parts that cannot work under WASI, or are only tests and tools; they
# are left out of lib/python3.11 (paths relative to it).
TRIM=(
  # the regression suite and the test packages inside other packages
  test ctypes/test distutils/tests idlelib/idle_test lib2to3/tests
  tkinter/test unittest/test
  # GUI: there is no _tkinter
  tkinter turtle.py turtledemo idlelib
  # no subprocesses, no pip wheels, no way to make a usable venv
  ensurepip venv
  # C modules that are not built for wasm32-wasi (_curses, _sqlite3, _ctypes
  # needs libffi, _msi is Windows only)
  curses sqlite3 ctypes msilib
)

# ------------------------------------------------------------- layout ----
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SDK=$ROOT/guest/sdk
OUT=${PYLON_PYTHON_BUILD_DIR:-$ROOT/build/python}
LOGS=$OUT/logs
DL=$OUT/dl                 # downloaded .dsc/.orig/.debian files (kept)
SRCS=$OUT/src              # unpacked, patched sources (fresh each full build)
PY_SRC=$SRCS/cpython
ZLIB_SRC=$SRCS/zlib
BLD=$OUT/cpython-build     # CPython's out-of-tree build directory
PREFIX=$OUT/wasi-prefix    # zlib for wasm32-wasi (lib/libz.a, include/, .pc)
SYSROOT=$OUT/sysroot       # wasi-libc only, so no glibc header leaks in
OBJ=$OUT/obj
STAMP=$OUT/.stamp                   # everything (python.wasm + stdlib + checks)
STAMP_CONFIGURED=$OUT/.stamp-configured
STAMP_STDLIB=$OUT/.stamp-stdlib
STAMP_TESTLIB=$OUT/.stamp-testlib
NSTEPS=9

FORCE=0
JOBS=${PYLON_JOBS:-2}
ARGS="$*"
while [ $# -gt 0 ]; do
  case $1 in
    --force) FORCE=1 ;;
    --jobs) JOBS=${2:?--jobs needs a number}; shift ;;
    --jobs=*) JOBS=${1#--jobs=} ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "python: unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

# A clean environment for the cross build: nothing from the caller's shell or
# from an enclosing make leaks into configure.
unset CFLAGS CPPFLAGS CXXFLAGS LDFLAGS LIBS CC CXX CPP AR RANLIB LD NM STRIP \
      PKG_CONFIG PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR \
      CONFIG_SITE PYTHONPATH PYTHONHOME PYTHONSTARTUP PYTHONUSERBASE \
      MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS
export LC_ALL=C DEBIAN_FRONTEND=noninteractive

# ------------------------------------------------------------ helpers ----
say()  { echo "python: $*" >&2; }
trap 'say "error: unexpected failure (line $LINENO: $BASH_COMMAND)"' ERR
die()  { say "error: $*"; exit 1; }
STEP=0
STEP_T0=$SECONDS
STEP_NAME=
step() {   # also notes how long the previous step took, in logs/timings.txt
  [ $STEP -eq 0 ] || echo "[$STEP/$NSTEPS] $(elapsed "$STEP_T0") $STEP_NAME" >>"$LOGS/timings.txt"
  STEP=$((STEP + 1)); STEP_T0=$SECONDS; STEP_NAME=$*
  say "[$STEP/$NSTEPS] $*"
}
skip() { say "      $* (unchanged, skipped)"; }
elapsed() { local s=$(( SECONDS - $1 )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# run_logged NAME CMD...: run CMD (a command or a shell function) with its
# output appended to logs/NAME.log; on failure show the log's tail and path.
# CMD runs in a background subshell so that `set -e` stays in force inside it.
run_logged() {
  local log=$LOGS/$1.log rc=0; shift
  mkdir -p "$LOGS"
  echo "=== $(date '+%F %T') $*" >>"$log"
  ( "$@" ) >>"$log" 2>&1 </dev/null &
  wait $! || rc=$?
  if [ $rc -ne 0 ]; then
    say "step $STEP failed (exit $rc): $*"
    echo "---- last lines of $log (long lines cut) ----" >&2
    tail -n 30 "$log" | cut -c1-300 >&2
    echo "----" >&2
    die "step $STEP failed; full log: $log"
  fi
}

SUDO=()
need_root() {
  [ "$(id -u)" -eq 0 ] && return 0
  command -v sudo >/dev/null || die "need root (or sudo) to $1"
  SUDO=(sudo)
}

sha256() { sha256sum "$@" | cut -d' ' -f1; }

# Setup.local with @PYLON_ROOT@ replaced, as it goes into the CPython build.
render_setup_local() { sed "s|@PYLON_ROOT@|$ROOT|g" "$HERE/Setup.local"; }

# Keys of the stamps.  KEY_BASE covers what the sources, zlib, configure and
# the stdlib depend on; KEY_FULL adds what only the link of python.wasm
# depends on, so that editing Setup.local (or a module it names) or
# cabi_realloc.c reruns make in the configured tree instead of everything.
key_base() {
  {
    echo "root $ROOT"
    echo "pin $PY_SRC_PKG=$PY_SRC_VERSION $PY_SRC_DSC_SHA256"
    echo "pin $ZLIB_SRC_PKG=$ZLIB_SRC_VERSION $ZLIB_SRC_DSC_SHA256"
    dpkg-query -W -f='tool ${Package}=${Version}\n' "${STAMP_PKGS[@]}" 2>/dev/null || true
    echo "script $(sha256 "$HERE/build.sh")"
    for p in "$HERE"/patches/*.patch; do
      if [ -e "$p" ]; then echo "patch $(basename "$p") $(sha256 "$p")"; fi
    done
  } | sha256
}
key_full() {
  {
    key_base
    echo "cabi_realloc $(sha256 "$SDK/cabi_realloc.c")"
    echo "crt_command $(sha256 "$HERE/crt_command.c")"
    echo "setup.local $(render_setup_local | sha256)"
    # every existing file a Setup.local line names by absolute path
    render_setup_local | sed 's/#.*//' | tr -s ' \t' '\n\n' | { grep '^/' || true; } | sort -u |
      while read -r f; do if [ -f "$f" ]; then echo "file $f $(sha256 "$f")"; fi; done
  } | sha256
}
# The stdlib also ships each cap's Python facade (caps/*/python/*.py).
key_stdlib() {
  {
    echo "$KEY_BASE"
    for f in "$ROOT"/caps/*/python/*.py; do if [ -f "$f" ]; then echo "facade $f $(sha256 "$f")"; fi; done
  } | sha256
}
stamp_is() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# ------------------------------------------------------- up to date? ----
T0=$SECONDS
# One build at a time in this build directory (several people share a
# checkout); a second caller waits, then usually finds everything up to date.
mkdir -p "$OUT"
exec 9>"$OUT/.lock"
if ! flock -n 9; then
  say "waiting for another build.sh working in ${OUT#"$ROOT"/}"
  flock 9
fi
if [ $FORCE -eq 0 ] && stamp_is "$STAMP" "$(key_full)" &&
   [ -f "$OUT/python.wasm" ] && [ -f "$OUT/lib/python$PY_XY/os.py" ] &&
   [ -f "$OUT/testlib/test/libregrtest/main.py" ]; then
  say "python.wasm is up to date (${OUT#"$ROOT"/}/python.wasm, stdlib in ${OUT#"$ROOT"/}/lib/python$PY_XY)"
  exit 0
fi
if [ $FORCE -eq 1 ]; then rm -f "$STAMP" "$STAMP_CONFIGURED" "$STAMP_STDLIB" "$STAMP_TESTLIB"; fi
mkdir -p "$OUT" "$LOGS" "$DL" "$OBJ"
rm -f "$STAMP"
echo "=== $(date '+%F %T') build.sh $ARGS" >>"$LOGS/timings.txt"

# ------------------------------------------- 1. host packages, deb-src ----
has_deb_src() {
  grep -sqE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list && return 0
  grep -sqiE '^Types:.*[[:space:]]deb-src([[:space:]]|$)' /etc/apt/sources.list.d/*.sources && return 0
  return 1
}

# Adds deb-src entries mirroring the deb ones, as a file of our own (the
# system's files stay untouched); does nothing when any deb-src exists.
APT_UPDATED=0
ensure_deb_src() {
  has_deb_src && return 0
  need_root "add a deb-src entry to apt's sources"
  local deb822=/etc/apt/sources.list.d/debian.sources
  if [ -f "$deb822" ]; then
    say "      adding deb-src: /etc/apt/sources.list.d/pylon-deb-src.sources (from $deb822)"
    # the same stanzas, with Types: deb-src
    awk 'BEGIN { RS = ""; ORS = "\n\n" }
         /(^|\n)Types:/ { gsub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print }' \
      "$deb822" | "${SUDO[@]}" tee /etc/apt/sources.list.d/pylon-deb-src.sources >/dev/null
  elif grep -sqE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list; then
    say "      adding deb-src: /etc/apt/sources.list.d/pylon-deb-src.list (from /etc/apt/sources.list)"
    sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list |
      "${SUDO[@]}" tee /etc/apt/sources.list.d/pylon-deb-src.list >/dev/null
  else
    die "no deb-src entry in apt's sources and no Debian entry to derive one from; add one (Types: deb-src) and rerun"
  fi
  apt_update
}
apt_update() {
  need_root "run apt-get update"
  run_logged 1-packages "${SUDO[@]}" apt-get update -q
  APT_UPDATED=1
}

step "checking host packages and apt's deb-src entry"
missing=()
for p in "${HOST_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "      installing: ${missing[*]}"
  need_root "install packages"
  apt_update
  run_logged 1-packages "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
ensure_deb_src
[ -x "$BUILD_PYTHON" ] || die "$BUILD_PYTHON is missing after installing python3.11"

# Recompute now that the toolchain is surely installed.
KEY_BASE=$(key_base)
KEY_FULL=$(key_full)
CONFIGURED=0
if stamp_is "$STAMP_CONFIGURED" "$KEY_BASE" && [ -f "$BLD/Makefile" ] &&
   [ -f "$PREFIX/lib/libz.a" ] && [ -f "$PY_SRC/configure" ]; then
  CONFIGURED=1
fi

# ------------------------------------------ 2. pinned source versions ----
# source_versions PKG: the versions of source package PKG apt offers.
source_versions() {
  apt-cache showsrc "$1" 2>/dev/null |
    awk -v pkg="$1" '/^Package: /{ p = $2 } /^Version: / { if (p == pkg) print $2 }' | sort -u
}
newest_of() {
  local best='' v
  for v in "$@"; do
    if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
  done
  echo "$best"
}
# check_pin PKG VERSION VARNAME
check_pin() {
  local pkg=$1 want=$2 var=$3 vers
  vers=$(source_versions "$pkg")
  if ! grep -qxF -- "$want" <<<"$vers" && [ $APT_UPDATED -eq 0 ]; then
    apt_update
    vers=$(source_versions "$pkg")
  fi
  if ! grep -qxF -- "$want" <<<"$vers"; then
    if [ -z "$vers" ]; then
      die "apt offers no source package '$pkg' (is deb-src configured? see logs/1-packages.log)"
    fi
    # shellcheck disable=SC2086
    die "the pinned source $pkg $want is not offered by apt any more; it offers: $(echo $vers).
  Update $var (and the matching .dsc SHA-256 next to it) at the top of guest/python/build.sh
  to one of those, after reading its debian/changelog.  The stamp then rebuilds everything."
  fi
  local newest
  # shellcheck disable=SC2086
  newest=$(newest_of $vers)
  if [ "$newest" != "$want" ]; then
    say "      note: apt also offers $pkg $newest (newer than the pinned $want);"
    say "      building the pin.  To move, update $var in guest/python/build.sh."
  fi
}

step "checking pinned sources: $PY_SRC_PKG $PY_SRC_VERSION, $ZLIB_SRC_PKG $ZLIB_SRC_VERSION"
if [ $CONFIGURED -eq 1 ]; then
  skip "sources already unpacked and configured"
else
  check_pin "$PY_SRC_PKG" "$PY_SRC_VERSION" PY_SRC_VERSION
  check_pin "$ZLIB_SRC_PKG" "$ZLIB_SRC_VERSION" ZLIB_SRC_VERSION
fi

# ------------------------------------------- 3. fetch and unpack ----
# fetch PKG VERSION DSC_SHA256 DEST: download (once) and unpack into DEST,
# with Debian's patches applied by dpkg-source.
fetch_and_unpack() {
  local pkg=$1 ver=$2 sum=$3 dest=$4
  local dsc=$DL/${pkg}_${ver#*:}.dsc   # file names drop the epoch
  if [ ! -f "$dsc" ] || [ "$(sha256 "$dsc")" != "$sum" ]; then
    rm -f "$dsc"
    (cd "$DL" && apt-get source --download-only -q "$pkg=$ver")
  fi
  local got; got=$(sha256 "$dsc")
  if [ "$got" != "$sum" ]; then
    echo "the .dsc of $pkg $ver has SHA-256 $got, the pin says $sum" >&2
    exit 1
  fi
  rm -rf "$dest"
  dpkg-source -x "$dsc" "$dest"
}
prepare_cpython_source() {
  # our own patches on top of Debian's, if any
  for p in "$HERE"/patches/*.patch; do
    [ -e "$p" ] || continue
    echo "applying $(basename "$p")"
    patch -d "$PY_SRC" -p1 --forward --batch <"$p"
  done
  # Debian's rules regenerate configure after patching (some patches touch
  # configure.ac only, e.g. the sysconfigdata file name); do the same.
  (cd "$PY_SRC" && rm -rf autom4te.cache configure && autoconf)
}

step "fetching and unpacking Debian's sources (apt-get source, dpkg-source -x)"
if [ $CONFIGURED -eq 1 ]; then
  skip "sources in ${SRCS#"$ROOT"/}"
else
  rm -f "$STAMP_CONFIGURED" "$STAMP_STDLIB" "$STAMP_TESTLIB"
  mkdir -p "$SRCS"
  run_logged 3-sources fetch_and_unpack "$PY_SRC_PKG" "$PY_SRC_VERSION" "$PY_SRC_DSC_SHA256" "$PY_SRC"
  run_logged 3-sources fetch_and_unpack "$ZLIB_SRC_PKG" "$ZLIB_SRC_VERSION" "$ZLIB_SRC_DSC_SHA256" "$ZLIB_SRC"
  run_logged 3-sources prepare_cpython_source
fi

# ----------------------------------------------------- 4. zlib ----
# The sysroot holds wasi-libc only.  clang-19 searches <sysroot>/include and
# <sysroot>/lib/wasm32-wasi, so that is the shape it gets.
make_sysroot() {
  rm -rf "$SYSROOT"
  mkdir -p "$SYSROOT/lib"
  ln -s /usr/include/wasm32-wasi "$SYSROOT/include"
  ln -s /usr/lib/wasm32-wasi "$SYSROOT/lib/wasm32-wasi"
}
WASI_CC="clang-19 --target=wasm32-wasi --sysroot=$SYSROOT"

build_zlib() {
  rm -rf "$PREFIX"
  cd "$ZLIB_SRC"
  CC="$WASI_CC" CFLAGS="$WASM_OPT $WASM_CPU_FLAGS" AR=llvm-ar-19 RANLIB=llvm-ranlib-19 \
    CHOST=wasm32-wasi ./configure --static --prefix="$PREFIX"
  make -j"$JOBS" libz.a
  make install
  test -f "$PREFIX/lib/libz.a" && test -f "$PREFIX/lib/pkgconfig/zlib.pc"
}

step "building zlib $ZLIB_SRC_VERSION for wasm32-wasi"
if [ $CONFIGURED -eq 1 ]; then
  skip "${PREFIX#"$ROOT"/}/lib/libz.a"
else
  make_sysroot
  run_logged 4-zlib build_zlib
fi

# ------------------------------------------------- 5. configure ----
install_setup_local() {
  mkdir -p "$BLD/Modules"
  render_setup_local >"$OBJ/Setup.local"
  cmp -s "$OBJ/Setup.local" "$BLD/Modules/Setup.local" || cp "$OBJ/Setup.local" "$BLD/Modules/Setup.local"
  # makesetup puts the object of source /a/b/x.c at Modules//a/b/x.o of the
  # build tree and does not create that directory itself.
  local f
  sed 's/#.*//' "$OBJ/Setup.local" | tr -s ' \t' '\n\n' |
    { grep -E '^/.*\.(c|cc|cpp|cxx|c\+\+|C|m)$' || true; } |
    while read -r f; do mkdir -p "$BLD/Modules/$(dirname "$f")"; done
}
configure_cpython() {
  rm -rf "$BLD"
  install_setup_local
  cd "$BLD"
  # config.site: Tools/wasm's answers for wasm32-wasi.  clock_nanosleep is
  # turned off: the build then sleeps with relative deadlines only (Node's
  # WASI hangs on absolute ones on the monotonic clock).  pkg-config only
  # sees our zlib.  The interpreter is built without the test modules.
  CONFIG_SITE="$PY_SRC/Tools/wasm/config.site-wasm32-wasi" \
  CC="$WASI_CC" AR=llvm-ar-19 RANLIB=llvm-ranlib-19 \
  OPT="$WASM_OPT" \
  CFLAGS="$WASM_CPU_FLAGS -Wno-error=int-conversion" \
  LDFLAGS="-Wl,--strip-debug" \
  PKG_CONFIG=pkg-config PKG_CONFIG_LIBDIR="$PREFIX/lib/pkgconfig" PKG_CONFIG_PATH='' \
  ac_cv_func_clock_nanosleep=no ac_cv_lib_rt_clock_nanosleep=no \
  "$PY_SRC/configure" \
    --host=wasm32-unknown-wasi --build="$("$PY_SRC/config.guess")" \
    --with-build-python="$BUILD_PYTHON" \
    --prefix="$GUEST_PREFIX" \
    --disable-test-modules --without-ensurepip --disable-ipv6
  grep -q '^MODULE_ZLIB_STATE=yes' Makefile || { echo "configure did not pick up zlib" >&2; exit 1; }
}

step "configuring CPython for wasm32-wasi"
if [ $CONFIGURED -eq 1 ]; then
  skip "${BLD#"$ROOT"/}"
else
  [ -d "$SYSROOT/lib/wasm32-wasi" ] || make_sysroot
  run_logged 5-configure configure_cpython
  echo "$KEY_BASE" >"$STAMP_CONFIGURED"
fi

# --------------------------------------------------------- 6. make ----
compile_cpython() {
  $WASI_CC $WASM_OPT $WASM_CPU_FLAGS -Wall -Wextra -c "$SDK/cabi_realloc.c" -o "$OBJ/cabi_realloc.o"
  $WASI_CC $WASM_OPT $WASM_CPU_FLAGS -Wall -Wextra -c "$HERE/crt_command.c" -o "$OBJ/crt_command.o"
  install_setup_local
  cd "$BLD"
  rm -f python.wasm     # relink even when only those two objects changed
  # LDFLAGS_NODIST is CPython's make-time hook for extra link flags of the
  # interpreter; it is not recorded in sysconfig.  Our own _start replaces
  # wasi-libc's crt1-command.o (see crt_command.c for why).
  # PyErr_SetInterrupt is exported so that the host can turn Ctrl-C into
  # KeyboardInterrupt: WASI delivers no signals, so `pylon run` calls it
  # from its SIGINT handling (src/cli/cmd_run.c) and Python raises at its
  # next eval-loop check, exactly as after a native SIGINT.
  make -j"$JOBS" all LDFLAGS_NODIST="-nostartfiles $OBJ/crt_command.o $OBJ/cabi_realloc.o \
    -Wl,--export=cabi_realloc -Wl,--export=PyErr_SetInterrupt"
  cp python.wasm "$OUT/python.wasm.tmp"
  mv "$OUT/python.wasm.tmp" "$OUT/python.wasm"
}
step "compiling CPython (make -j$JOBS; about 2 minutes from scratch on 2 cores)"
run_logged 6-make compile_cpython

# ------------------------------------------------------- 7. stdlib ----
assemble_stdlib() {
  local stage=$OUT/lib.new dest
  dest=$stage/python$PY_XY
  rm -rf "$stage"
  mkdir -p "$dest"
  cp -a "$PY_SRC/Lib/." "$dest/"
  # the build python may have left bytecode caches in the source tree
  find "$dest" -name __pycache__ -type d -prune -exec rm -rf {} +
  local t
  for t in "${TRIM[@]}"; do
    [ -e "$dest/$t" ] || { echo "trim: $t is not in the stdlib (stale TRIM entry?)" >&2; exit 1; }
    rm -rf "${dest:?}/$t"
  done
  # sysconfig's data, generated by the build.  The runtime looks for
  # _sysconfigdata_{abiflags}_{multiarch}.py = _sysconfigdata__wasm32-wasi.py.
  local pyb; pyb=$BLD/$(cat "$BLD/pybuilddir.txt")
  cp "$pyb"/_sysconfigdata_*.py "$dest/"
  [ -f "$dest/_sysconfigdata__wasm32-wasi.py" ] ||
    cp "$pyb"/_sysconfigdata_*wasm32-wasi.py "$dest/_sysconfigdata__wasm32-wasi.py"
  mkdir -p "$dest/site-packages" "$dest/lib-dynload"
  # the caps' Python facades (crc32c.py, ...) next to the stdlib modules
  local facade
  for facade in "$ROOT"/caps/*/python/*.py; do
    if [ -f "$facade" ]; then cp "$facade" "$dest/"; fi
  done
  # .pyc for every module, valid without looking at the source (the mount is
  # read-only and mtimes mean nothing there).  Fixed hash seed: reproducible.
  PYTHONHASHSEED=0 "$BUILD_PYTHON" -m compileall -q -f -j "$JOBS" \
    --invalidation-mode unchecked-hash -d "$GUEST_PREFIX/lib/python$PY_XY" "$dest"
  rm -rf "${OUT:?}/lib"
  mv "$stage" "$OUT/lib"
}
step "assembling the stdlib (trim, precompile .pyc)"
KEY_STDLIB=$(key_stdlib)
if stamp_is "$STAMP_STDLIB" "$KEY_STDLIB" && [ -f "$OUT/lib/python$PY_XY/os.py" ]; then
  skip "${OUT#"$ROOT"/}/lib/python$PY_XY"
else
  run_logged 7-stdlib assemble_stdlib
  echo "$KEY_STDLIB" >"$STAMP_STDLIB"
fi

# ------------------------------------------------------ 8. testlib ----
# CPython's regression suite, for `pylon run -m test` (tests/groups/30-python.sh,
# docs/python.md).  It lives beside the stdlib, not in it: a program run
# under Pylon never sees it unless it is mounted (`pylon run --path
# build/python/testlib ...`).  It comes from the very source tree the stdlib
# and python.wasm were built from, so the tests match the interpreter.
# Everything of Lib/test goes in, data files included (many tests read
# files next to themselves).  The few files that are deliberately not valid
# Python (the pattern upstream's `make install` skips too) get no .pyc.
TESTLIB_NO_PYC='bad_coding|badsyntax|lib2to3/tests/data'
assemble_testlib() {
  local stage=$OUT/testlib.new
  rm -rf "$stage"
  mkdir -p "$stage"
  cp -a "$PY_SRC/Lib/test" "$stage/test"
  find "$stage" -name __pycache__ -type d -prune -exec rm -rf {} +
  # The same unchecked-hash .pyc as the stdlib: the mount is read-only, so
  # without them every test module would be compiled at every run (seconds
  # each under an interpreter) and its cache write would fail.  The
  # recorded file name does not matter: the importer fixes co_filename to
  # wherever the module is found.
  PYTHONHASHSEED=0 "$BUILD_PYTHON" -m compileall -q -f -j "$JOBS" \
    --invalidation-mode unchecked-hash -x "$TESTLIB_NO_PYC" "$stage"
  test -f "$stage/test/libregrtest/__pycache__/main.cpython-${PY_XY/./}.pyc"
  rm -rf "${OUT:?}/testlib"
  mv "$stage" "$OUT/testlib"
}
step "assembling the test library (Lib/test, precompile .pyc; not part of the stdlib)"
if stamp_is "$STAMP_TESTLIB" "$KEY_BASE" && [ -f "$OUT/testlib/test/libregrtest/main.py" ]; then
  skip "${OUT#"$ROOT"/}/testlib"
else
  run_logged 8-testlib assemble_testlib
  echo "$KEY_BASE" >"$STAMP_TESTLIB"
fi

# ------------------------------------------------------- 9. checks ----
# Reads the custom section target_features of a wasm file: "+name" for each
# feature some input object was compiled with.
target_features() {
  "$BUILD_PYTHON" - "$1" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
def leb(i):
    r = s = 0
    while True:
        b = data[i]; i += 1
        r |= (b & 0x7f) << s; s += 7
        if b < 0x80:
            return r, i
i = 8
while i < len(data):
    sid = data[i]; size, j = leb(i + 1); end = j + size
    if sid == 0:
        nlen, k = leb(j)
        if data[k:k + nlen] == b"target_features":
            k += nlen
            n, k = leb(k)
            out = []
            for _ in range(n):
                prefix = chr(data[k]); flen, k = leb(k + 1)
                out.append(prefix + data[k:k + flen].decode()); k += flen
            print(" ".join(sorted(out)))
    i = end
EOF
}

check_python_wasm() {
  local w=$OUT/python.wasm
  local exports imports
  exports=$(wasm-objdump -x -j Export "$w" | sed -n 's/.* -> "\(.*\)"$/\1/p')
  echo "exports: $(echo $exports)"
  for e in "${REQUIRED_EXPORTS[@]}"; do
    grep -qx "$e" <<<"$exports" || { echo "python.wasm does not export $e" >&2; exit 1; }
  done
  # no export may be one of wasm-ld's command wrappers (ctors+f+dtors)
  if wasm-objdump -x -j Export "$w" | grep -F '.command_export>'; then
    echo "python.wasm exports wasm-ld command wrappers (above): see crt_command.c" >&2
    exit 1
  fi
  imports=$(wasm-objdump -x -j Import "$w" | sed -n 's/.* <- \(.*\)$/\1/p')
  echo "imports ($(grep -c . <<<"$imports")):"
  echo "$imports" | sed 's/^/  /'
  # WASI, and the compose:dynlink linker that runtime-linked caps use
  if grep -v -e '^wasi_snapshot_preview1\.' -e '^compose:dynlink/linker@0\.1\.0\.' <<<"$imports"; then
    echo "python.wasm imports something other than wasi_snapshot_preview1 and compose:dynlink (above)" >&2
    exit 1
  fi
  echo "$imports" | grep '^wasi_snapshot_preview1\.' | sed 's/^wasi_snapshot_preview1\.//' >"$OUT/python.wasm.imports"

  # What the code really uses: it must validate with every post-MVP feature
  # switched off except the allowed ones.
  local feat disable=()
  for feat in "${!WABT_DISABLE[@]}"; do
    case " ${ALLOWED_FEATURES[*]} " in
      *" $feat "*) ;;
      *) disable+=("${WABT_DISABLE[$feat]}") ;;
    esac
  done
  echo "wasm-validate ${disable[*]}"
  wasm-validate "${disable[@]}" "$w"
  # call_indirect must carry its table index as the single MVP byte 0x00 (a
  # padded 5-byte LEB is a reference-types encoding, which MVP decoders reject;
  # wasm-validate reads it as 0).  wasm-objdump shows the bytes: the 00 must
  # follow the last byte of the type index (< 0x80), not a padding 0x80.
  local bad
  bad=$(wasm-objdump -d "$w" | grep -F '| call_indirect' | grep -vcE ' [0-7][0-9a-f] 00 +\| call_indirect' || true)
  echo "call_indirect with a non-MVP table index encoding: $bad"
  [ "$bad" = 0 ] || { echo "python.wasm has reference-types call_indirect encodings" >&2; exit 1; }
  echo "target_features: $(target_features "$w")"
}

smoke_test() {
  local out
  out=$(node "$HERE/node-python.mjs" --build "$OUT" -- -c \
    'import sys, json, zlib, re, decimal, sysconfig, hashlib, datetime, collections, io
print(sys.version.split()[0], sys.platform, sysconfig.get_config_var("MULTIARCH"), sys.prefix, json.__cached__)
print(len(zlib.compress(b"x" * 1000)), decimal.Decimal(1) / 7, hashlib.sha256(b"abc").hexdigest()[:8])
print(json.dumps(sorted(re.findall(r"\w+", "b a c"))))')
  echo "$out"
  grep -q "^$PY_XY.* wasi wasm32-wasi $GUEST_PREFIX $GUEST_PREFIX/lib/python$PY_XY/json/__pycache__/" <<<"$out" ||
    { echo "unexpected output from python.wasm under node" >&2; exit 1; }
}

write_summary() {
  local wasm_bytes lib_bytes npy npyc feats
  wasm_bytes=$(stat -c %s "$OUT/python.wasm")
  lib_bytes=$(du -sb "$OUT/lib" | cut -f1)
  npy=$(find "$OUT/lib" -name '*.py' | wc -l)
  npyc=$(find "$OUT/lib" -name '*.pyc' | wc -l)
  feats=$(target_features "$OUT/python.wasm")
  cat >"$OUT/python.wasm.txt" <<EOF
# python.wasm: CPython $PY_XY for wasm32-wasi, built by guest/python/build.sh
sources:      $PY_SRC_PKG $PY_SRC_VERSION, $ZLIB_SRC_PKG $ZLIB_SRC_VERSION (Debian source packages)
toolchain:    $(dpkg-query -W -f='${Package} ${Version}, ' "${STAMP_PKGS[@]}" | sed 's/, $//')
cpu flags:    $WASM_CPU_FLAGS
guest paths:  sys.prefix $GUEST_PREFIX, stdlib $GUEST_PREFIX/lib/python$PY_XY (PYTHONHOME=$GUEST_PREFIX)
python.wasm:  $wasm_bytes bytes
stdlib:       $lib_bytes bytes in lib/python$PY_XY ($npy .py, $npyc .pyc)
testlib:      $(du -sb "$OUT/testlib" | cut -f1) bytes in testlib/test (regression suite, not shipped)
imports:      $(wc -l <"$OUT/python.wasm.imports") from wasi_snapshot_preview1 (list: python.wasm.imports)
exports:      $(wasm-objdump -x -j Export "$OUT/python.wasm" | sed -n 's/.* -> "\(.*\)"$/\1/p' | paste -sd' ')
features:     MVP + ${ALLOWED_FEATURES[*]} (validated); target_features section: $feats
EOF
  cat "$OUT/python.wasm.txt"
}

step "checking python.wasm (exports, imports, wasm features) and running it"
run_logged 9-check check_python_wasm
if command -v node >/dev/null; then
  run_logged 9-check smoke_test
else
  say "      node not found: skipping the smoke test under node:wasi"
fi
run_logged 9-check write_summary
say "      $(grep -E '^(python.wasm|stdlib|imports): ' "$OUT/python.wasm.txt" | tr -s ' ' | paste -sd';' | sed 's/;/;  /g')"
step_end() { echo "[$STEP/$NSTEPS] $(elapsed "$STEP_T0") $STEP_NAME" >>"$LOGS/timings.txt"; }
step_end
echo "total $(elapsed "$T0")" >>"$LOGS/timings.txt"
echo "build time:   $(elapsed "$T0") (this run; per step: logs/timings.txt)" >>"$OUT/python.wasm.txt"
echo "$KEY_FULL" >"$STAMP"
say "done in $(elapsed "$T0"): ${OUT#"$ROOT"/}/python.wasm, ${OUT#"$ROOT"/}/lib/python$PY_XY"
