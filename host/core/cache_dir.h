/* Where svertka keeps files that outlive a process (compiled programs, and other per-user
 * caches): one resolution of the environment, shared by every such cache. */
#ifndef SV_CACHE_DIR_H
#define SV_CACHE_DIR_H

#include <stddef.h>

/* Resolves the directory for one kind of cached file, `sub` (e.g. "programs"), and with `create`
 * creates it: $SVERTKA_CACHE_DIR/<sub> when SVERTKA_CACHE_DIR is set and not empty, else
 * $XDG_CACHE_HOME/svertka/<sub> (an absolute XDG_CACHE_HOME only, as the XDG base directory
 * specification asks), else $HOME/.cache/svertka/<sub>. Missing directories along the path are
 * created with mode 0700: the files are the user's own. Returns 1 with the path in out, or 0 when
 * there is none to be had (no variable set, a path longer than `size`, and with `create` a
 * component that cannot be created or is not a directory): a caller then goes on without its
 * cache, since a cache may make a run faster but never make it fail. A caller that only reads
 * passes create = 0, so that looking for a cache leaves no directories behind. */
int sv_cache_dir(const char *sub, int create, char *out, size_t size);

#endif
