# Writes a C file that embeds OpenCL sources as NUL-terminated byte arrays (not string literals:
# C caps those at 4095 characters). Run in script mode:
#   cmake -DOUTPUT=file.c -DSOURCES="a.cl;common.clh" -P embed_kernels.cmake
# Each source is named by its file name without extension.
set(body "/* Generated from kernels_cl/ by host/cmake/embed_kernels.cmake; do not edit. */\n")
string(APPEND body "#include \"cl/program.h\"\n\n")
set(table "")
set(index 0)
foreach(source IN LISTS SOURCES)
  get_filename_component(name "${source}" NAME_WE)
  file(READ "${source}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
  string(LENGTH "${hex}" hex_length)
  math(EXPR length "${hex_length} / 2")
  string(APPEND body "static const char source_${index}[] = {\n${bytes}0x00};\n\n")
  string(APPEND table "    {\"${name}\", source_${index}, ${length}},\n")
  math(EXPR index "${index} + 1")
endforeach()
string(APPEND body "const sv_embedded_source sv_embedded_sources[] = {\n${table}};\n")
string(APPEND body "const size_t sv_embedded_source_count = ${index};\n")
file(WRITE "${OUTPUT}.tmp" "${body}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
