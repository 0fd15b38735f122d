/* Node attributes. Strings in the protobuf are length-counted bytes, not C strings. */
#include "graph/attr.h"

#include <stdio.h>
#include <string.h>

const Onnx__AttributeProto *attr_find(const Onnx__NodeProto *node, const char *name) {
    for (size_t k = 0; k < node->n_attribute; k++)
        if (node->attribute[k]->name && strcmp(node->attribute[k]->name, name) == 0)
            return node->attribute[k];
    return NULL;
}

int64_t attr_int(const Onnx__NodeProto *node, const char *name, int64_t fallback) {
    const Onnx__AttributeProto *a = attr_find(node, name);
    return a && a->has_i ? a->i : fallback;
}

float attr_float(const Onnx__NodeProto *node, const char *name, float fallback) {
    const Onnx__AttributeProto *a = attr_find(node, name);
    return a && a->has_f ? a->f : fallback;
}

const char *attr_string(const Onnx__NodeProto *node, const char *name, const char *fallback,
                        char *buf, size_t size) {
    const Onnx__AttributeProto *a = attr_find(node, name);
    if (!a || !a->has_s) {
        snprintf(buf, size, "%s", fallback);
        return buf;
    }
    size_t n = a->s.len < size - 1 ? a->s.len : size - 1;
    memcpy(buf, a->s.data, n);
    buf[n] = '\0';
    return buf;
}

int attr_ints(const Onnx__NodeProto *node, const char *name, int64_t *out, int max) {
    const Onnx__AttributeProto *a = attr_find(node, name);
    if (!a)
        return 0;
    if (a->n_ints > (size_t)max)
        return -1;
    for (size_t k = 0; k < a->n_ints; k++)
        out[k] = a->ints[k];
    return (int)a->n_ints;
}

int attr_choose(const Onnx__NodeProto *node, const char *name, const char *fallback,
                const attr_choice *choices, char *buf, size_t size) {
    attr_string(node, name, fallback, buf, size);
    for (const attr_choice *c = choices; c->name; c++)
        if (strcmp(c->name, buf) == 0)
            return c->value;
    return -1;
}

int attr_floats(const Onnx__NodeProto *node, const char *name, float *out, int max) {
    const Onnx__AttributeProto *a = attr_find(node, name);
    if (!a)
        return 0;
    if (a->n_floats > (size_t)max)
        return -1;
    for (size_t k = 0; k < a->n_floats; k++)
        out[k] = a->floats[k];
    return (int)a->n_floats;
}

sv_status attr_check_known(const Onnx__NodeProto *node, const char *const *known, sv_message *err) {
    for (size_t k = 0; k < node->n_attribute; k++) {
        const char *name = node->attribute[k]->name ? node->attribute[k]->name : "";
        /* consumed_inputs (opsets 1 to 5) only marked inputs an op could overwrite */
        int ok = strcmp(name, "consumed_inputs") == 0;
        for (const char *const *kn = known; *kn && !ok; kn++)
            ok = strcmp(*kn, name) == 0;
        if (!ok)
            return sv_fail_message(err, SV_UNSUPPORTED,
                                   "node '%s' (%s): attribute '%s' is not supported",
                                   graph_node_label(node), node->op_type, name);
    }
    return SV_OK;
}
