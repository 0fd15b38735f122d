#!/usr/bin/env bash
# Installs the build into a temporary prefix, then compiles the README's C example as written
# against it twice (pkg-config, and a CMake project using find_package(svertka)) and runs both.
set -eu
src=$1
build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null

# the example is the first ```c block after the "## C API" heading
awk '/^## C API/{api=1} api && /^```c$/{code=1; next} code && /^```$/{exit} code' \
  "$src/README.md" > "$tmp/example.c"
[[ -s $tmp/example.c ]] || { echo "no C example found in README.md"; exit 1; }

pc=$(find "$tmp/prefix" -name svertka.pc)
libdir=$(dirname "$(dirname "$pc")")
export PKG_CONFIG_PATH=$libdir/pkgconfig
read -r -a flags <<< "$(pkg-config --cflags --libs svertka)"
cc -std=c99 -Wall -Wextra -Werror -o "$tmp/example_pc" "$tmp/example.c" "${flags[@]}"
LD_LIBRARY_PATH=$libdir "$tmp/example_pc"

mkdir "$tmp/consumer"
cp "$tmp/example.c" "$tmp/consumer/"
cat > "$tmp/consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(svertka REQUIRED)
add_executable(example example.c)
target_link_libraries(example PRIVATE svertka::svertka)
CM
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer/build" >/dev/null
LD_LIBRARY_PATH=$libdir "$tmp/consumer/build/example"
echo "readme example: built with pkg-config and with find_package, both ran"
