#!/bin/sh
# build-guest.sh OUT.bin LDSCRIPT OBJCOPY CC [CC-ARGS...] -- SOURCES...
# Compiles and links one guest program (freestanding, no SSE, at the load address of LDSCRIPT)
# and writes it as a flat binary. Used by meson.build.
set -eu
out=$1 ld=$2 objcopy=$3
shift 3
cc=
while [ "$1" != -- ]; do cc="$cc $1"; shift; done
shift
# shellcheck disable=SC2086 # CC may be a command line (e.g. ccache gcc)
$cc -m64 -ffreestanding -fno-pic -fno-pie -no-pie -static -nostdlib -mno-red-zone -fno-stack-protector \
    -mgeneral-regs-only -fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none -O2 \
    -Wall -Wextra -Werror -Wl,-T,"$ld" -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -o "$out.elf" "$@"
"$objcopy" -O binary "$out.elf" "$out"
