/* Reading a node's attributes, and refusing the ones an op does not understand. */
#ifndef SV_ATTR_H
#define SV_ATTR_H

#include "graph/graph.h"

const Onnx__AttributeProto *attr_find(const Onnx__NodeProto *node, const char *name);
int64_t attr_int(const Onnx__NodeProto *node, const char *name, int64_t fallback);
float attr_float(const Onnx__NodeProto *node, const char *name, float fallback);
/* Copies a string attribute (or the fallback) into buf, NUL-terminated. */
const char *attr_string(const Onnx__NodeProto *node, const char *name, const char *fallback,
                        char *buf, size_t size);
/* Reads an ints attribute into out (at most max values); returns the count, 0 when absent,
 * -1 when longer than max. */
int attr_ints(const Onnx__NodeProto *node, const char *name, int64_t *out, int max);
int attr_floats(const Onnx__NodeProto *node, const char *name, float *out, int max);

/* Fails naming the first attribute of node that is not in the NULL-terminated list `known`. */
sv_status attr_check_known(const Onnx__NodeProto *node, const char *const *known, sv_message *err);

#endif
