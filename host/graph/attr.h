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
/* One name a string attribute may hold, and the value it stands for (>= 0). */
typedef struct attr_choice {
    const char *name;
    int value;
} attr_choice;

/* The value of the string attribute `name` (or `fallback` when absent) among `choices`, a table
 * ended by a NULL name; -1 when it is none of them, its text then in buf for the message. */
int attr_choose(const Onnx__NodeProto *node, const char *name, const char *fallback,
                const attr_choice *choices, char *buf, size_t size);

int attr_floats(const Onnx__NodeProto *node, const char *name, float *out, int max);

/* Fails naming the first attribute of node that is not in the NULL-terminated list `known`. */
sv_status attr_check_known(const Onnx__NodeProto *node, const char *const *known, sv_message *err);

#endif
