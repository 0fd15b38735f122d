/* Loads an ONNX model: protobuf-c parses the bytes (code generated from the system's
 * onnx.proto), then every name is resolved, initializers are converted to host constants,
 * graph inputs are described, and nodes are put in topological order. Everything in the file is
 * untrusted: every size and reference is checked before use. */
#include "graph/graph.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_VALUES = 1 << 22, MAX_EXTERNAL_PATH = 4096 };

const char *graph_node_label(const Onnx__NodeProto *node) {
    if (node->name && *node->name)
        return node->name;
    if (node->n_output && node->output[0] && *node->output[0])
        return node->output[0];
    return "(unnamed)";
}

static int find_value(const graph *g, const char *name) {
    for (int i = 0; i < g->nvalues; i++)
        if (strcmp(g->values[i].name, name) == 0)
            return i;
    return -1;
}

/* Adds a value by name (or returns the existing one). */
static int add_value(graph *g, const char *name, int *capacity) {
    int id = find_value(g, name);
    if (id >= 0)
        return id;
    if (g->nvalues == *capacity) {
        if (*capacity >= MAX_VALUES)
            return -1;
        int cap = *capacity ? *capacity * 2 : 64;
        graph_value *bigger = realloc(g->values, (size_t)cap * sizeof *bigger);
        if (!bigger)
            return -1;
        g->values = bigger;
        *capacity = cap;
    }
    graph_value *v = &g->values[g->nvalues];
    memset(v, 0, sizeof *v);
    v->name = name;
    return g->nvalues++;
}

/* Reads `length` bytes at `offset` of an external data file next to the model. */
static sv_status read_external(const Onnx__TensorProto *t, const char *base_dir, size_t want,
                               void *out, sv_message *err) {
    const char *location = NULL;
    long long offset = 0, length = -1;
    for (size_t k = 0; k < t->n_external_data; k++) {
        const Onnx__StringStringEntryProto *e = t->external_data[k];
        if (!e->key || !e->value)
            continue;
        if (strcmp(e->key, "location") == 0)
            location = e->value;
        else if (strcmp(e->key, "offset") == 0)
            offset = strtoll(e->value, NULL, 10);
        else if (strcmp(e->key, "length") == 0)
            length = strtoll(e->value, NULL, 10);
    }
    if (!location || !*location)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "initializer '%s': external data without a location", t->name);
    if (!base_dir)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "initializer '%s': external data '%s' needs the model loaded from "
                               "a file",
                               t->name, location);
    if (location[0] == '/' || strstr(location, ".."))
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "initializer '%s': external data location '%s' must be a relative "
                               "path inside the model's directory",
                               t->name, location);
    if (offset < 0 || (length >= 0 && (size_t)length != want))
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "initializer '%s': external data offset %lld / length %lld do not "
                               "match its %zu bytes",
                               t->name, offset, length, want);
    char path[MAX_EXTERNAL_PATH];
    if (snprintf(path, sizeof path, "%s/%s", base_dir, location) >= (int)sizeof path)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "initializer '%s': path too long",
                               t->name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return sv_fail_message(err, SV_IO, "initializer '%s': cannot open external data %s",
                               t->name, path);
    int ok = fseek(f, (long)offset, SEEK_SET) == 0 && fread(out, 1, want, f) == want;
    fclose(f);
    if (!ok)
        return sv_fail_message(err, SV_IO,
                               "initializer '%s': external data %s is shorter than offset %lld + "
                               "%zu bytes",
                               t->name, path, offset, want);
    return SV_OK;
}

static const char *dtype_name(int32_t type) {
    static const char *const names[] = {"undefined",  "float",   "uint8",  "int8",   "uint16",
                                        "int16",      "int32",   "int64",  "string", "bool",
                                        "float16",    "double",  "uint32", "uint64", "complex64",
                                        "complex128", "bfloat16"};
    return type >= 0 && type < (int32_t)(sizeof names / sizeof names[0]) ? names[type] : "unknown";
}

sv_status graph_tensor_to_const(const Onnx__TensorProto *t, const char *base_dir, hostconst **out,
                                sv_message *err) {
    const char *name = t->name ? t->name : "(unnamed)";
    if (t->n_dims > SV_MAX_RANK)
        return sv_fail_message(err, SV_UNSUPPORTED,
                               "tensor '%s' has rank %zu; at most %d supported", name, t->n_dims,
                               SV_MAX_RANK);
    int64_t dims[SV_MAX_RANK];
    for (size_t k = 0; k < t->n_dims; k++) {
        if (t->dims[k] < 0)
            return sv_fail_message(err, SV_INVALID_ARGUMENT, "tensor '%s' has a negative dimension",
                                   name);
        dims[k] = t->dims[k];
    }
    int64_t count = hc_product((int)t->n_dims, dims);
    if (count < 0 || count > (INT64_C(1) << 34))
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "tensor '%s': the product of its dimensions is too large", name);
    size_t elem;
    hc_type type;
    switch (t->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: elem = 4, type = HC_F32; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: elem = 8, type = HC_F32; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: elem = 8, type = HC_I64; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: elem = 4, type = HC_I64; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: elem = 2, type = HC_I64; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: elem = 1, type = HC_I64; break;
    default:
        return sv_fail_message(err, SV_UNSUPPORTED,
                               "tensor '%s' has data type %s (%d); supported: "
                               "float, double, int64, int32, int16, int8, uint8, bool",
                               name, dtype_name(t->data_type), (int)t->data_type);
    }
    /* the data must be all there before anything is allocated for it: the dimensions alone
     * cost nothing to write */
    const size_t bytes = (size_t)count * elem;
    const int is_external =
        t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    size_t have;
    switch (t->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: have = t->n_float_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: have = t->n_double_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: have = t->n_int64_data; break;
    default: have = t->n_int32_data; break;
    }
    if (!is_external && t->has_raw_data && t->raw_data.len != bytes)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "tensor '%s': raw data has %zu bytes, its shape needs %zu", name,
                               t->raw_data.len, bytes);
    if (!is_external && !t->has_raw_data && have != (size_t)count)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "tensor '%s' has %zu values, its shape needs %lld", name, have,
                               (long long)count);
    hostconst *c = hc_new(type, (int)t->n_dims, dims);
    if (!c)
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "tensor '%s': out of host memory", name);
    const unsigned char *raw = NULL;
    unsigned char *external = NULL;
    sv_status st = SV_OK;
    if (is_external) {
        external = malloc(bytes ? bytes : 1);
        if (!external)
            st = sv_fail_message(err, SV_OUT_OF_MEMORY, "tensor '%s': out of host memory", name);
        else
            st = read_external(t, base_dir, bytes, external, err);
        raw = external;
    } else if (t->has_raw_data) {
        raw = t->raw_data.data;
    }
    for (int64_t k = 0; st == SV_OK && k < count; k++) {
        if (raw) { /* little-endian, as the format prescribes */
            const unsigned char *p = raw + (size_t)k * elem;
            uint64_t u = 0;
            for (size_t b = 0; b < elem; b++)
                u |= (uint64_t)p[b] << (8 * b);
            switch (t->data_type) {
            case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
                uint32_t u32 = (uint32_t)u;
                float f;
                memcpy(&f, &u32, 4);
                c->f[k] = f;
                break;
            }
            case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
                double d;
                memcpy(&d, &u, 8);
                c->f[k] = (float)d;
                break;
            }
            case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: c->i[k] = (int64_t)u; break;
            case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: c->i[k] = (int32_t)(uint32_t)u; break;
            case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: c->i[k] = (int16_t)(uint16_t)u; break;
            case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: c->i[k] = (int8_t)(uint8_t)u; break;
            default: c->i[k] = (int64_t)u; break;
            }
            continue;
        }
        /* typed fields (counted above): float_data, double_data, int64_data, int32_data (which
         * also carries the small integer types and bool) */
        switch (t->data_type) {
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: c->f[k] = t->float_data[k]; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: c->f[k] = (float)t->double_data[k]; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: c->i[k] = t->int64_data[k]; break;
        default: c->i[k] = t->int32_data[k]; break;
        }
    }
    free(external);
    if (st != SV_OK) {
        hc_free(c);
        return st;
    }
    *out = c;
    return SV_OK;
}

/* Reads a graph input's declared type: float, with a static shape except for a symbolic
 * batch dimension. */
static sv_status describe_input(const Onnx__ValueInfoProto *vi, graph_value *v, sv_message *err) {
    const Onnx__TypeProto *type = vi->type;
    if (!type || type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !type->tensor_type)
        return sv_fail_message(err, SV_UNSUPPORTED, "graph input '%s' is not a tensor", vi->name);
    const Onnx__TypeProto__Tensor *tt = type->tensor_type;
    if (tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return sv_fail_message(err, SV_UNSUPPORTED,
                               "graph input '%s' has data type %s; only float inputs are supported",
                               vi->name, dtype_name(tt->elem_type));
    if (!tt->shape)
        return sv_fail_message(err, SV_UNSUPPORTED, "graph input '%s' has no shape", vi->name);
    if (tt->shape->n_dim < 1 || tt->shape->n_dim > SV_MAX_RANK)
        return sv_fail_message(err, SV_UNSUPPORTED,
                               "graph input '%s' has rank %zu; ranks 1 to %d are supported",
                               vi->name, tt->shape->n_dim, SV_MAX_RANK);
    v->rank = (int)tt->shape->n_dim;
    for (int k = 0; k < v->rank; k++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[k];
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
            d->dim_value >= 1 && d->dim_value <= INT32_MAX) {
            v->dims[k] = d->dim_value;
        } else if (k == 0 &&
                   d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            v->dims[k] = 1;
            v->batch_symbolic = 1;
        } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                   d->dim_value == 0) {
            return sv_fail_message(err, SV_UNSUPPORTED,
                                   "graph input '%s': dimension %d is 0 (empty tensors are not "
                                   "supported)",
                                   vi->name, k);
        } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "graph input '%s': dimension %d is %lld, outside 1..%d",
                                   vi->name, k, (long long)d->dim_value, INT32_MAX);
        } else {
            return sv_fail_message(err, SV_UNSUPPORTED,
                                   "graph input '%s': dimension %d is symbolic ('%s'); only the "
                                   "batch dimension (0) may be",
                                   vi->name, k, d->dim_param ? d->dim_param : "?");
        }
    }
    return SV_OK;
}

/* Orders the nodes so that every node comes after the producers of its inputs (Kahn's
 * algorithm); a graph where that is impossible has a cycle. */
static sv_status sort_nodes(graph *g, sv_message *err) {
    int *producer = malloc((size_t)g->nvalues * sizeof *producer);
    int *order = malloc(((size_t)g->nnodes + 1) * sizeof *order);
    char *done = calloc((size_t)g->nnodes + 1, 1);
    sv_status st = SV_OK;
    if (!producer || !order || !done) {
        st = sv_fail_message(err, SV_OUT_OF_MEMORY, "model: out of host memory");
        goto out;
    }
    for (int i = 0; i < g->nvalues; i++)
        producer[i] = -1;
    for (int n = 0; n < g->nnodes; n++)
        for (int k = 0; k < g->nodes[n].noutputs; k++) {
            int v = g->nodes[n].outputs[k];
            if (v < 0)
                continue;
            if (producer[v] >= 0 || g->values[v].initializer || g->values[v].is_input) {
                st = sv_fail_message(err, SV_INVALID_ARGUMENT,
                                     "tensor '%s' is produced twice (node '%s')", g->values[v].name,
                                     graph_node_label(g->nodes[n].proto));
                goto out;
            }
            producer[v] = n;
        }
    for (int n = 0; n < g->nnodes; n++)
        for (int k = 0; k < g->nodes[n].ninputs; k++) {
            int v = g->nodes[n].inputs[k];
            if (v < 0 || g->values[v].initializer || g->values[v].is_input)
                continue;
            if (producer[v] < 0) {
                st = sv_fail_message(err, SV_INVALID_ARGUMENT,
                                     "node '%s' (%s) reads tensor '%s', which no node, input or "
                                     "initializer provides",
                                     graph_node_label(g->nodes[n].proto),
                                     g->nodes[n].proto->op_type, g->values[v].name);
                goto out;
            }
        }
    /* repeatedly take the first node whose inputs are all available: stable for sorted graphs */
    int placed = 0;
    while (placed < g->nnodes) {
        int progress = 0;
        for (int n = 0; n < g->nnodes; n++) {
            if (done[n])
                continue;
            int ready = 1;
            for (int k = 0; k < g->nodes[n].ninputs && ready; k++) {
                int v = g->nodes[n].inputs[k];
                ready = v < 0 || producer[v] < 0 || done[producer[v]];
            }
            if (ready) {
                done[n] = 1;
                order[placed++] = n;
                progress = 1;
            }
        }
        if (!progress) {
            for (int n = 0; n < g->nnodes; n++)
                if (!done[n]) {
                    st = sv_fail_message(
                        err, SV_INVALID_ARGUMENT, "the graph has a cycle through node '%s' (%s)",
                        graph_node_label(g->nodes[n].proto), g->nodes[n].proto->op_type);
                    break;
                }
            goto out;
        }
    }
    graph_node *sorted = malloc(((size_t)g->nnodes + 1) * sizeof *sorted);
    if (!sorted) {
        st = sv_fail_message(err, SV_OUT_OF_MEMORY, "model: out of host memory");
        goto out;
    }
    for (int i = 0; i < g->nnodes; i++)
        sorted[i] = g->nodes[order[i]];
    free(g->nodes);
    g->nodes = sorted;
out:
    free(producer);
    free(order);
    free(done);
    return st;
}

/* Resolves a node's input or output names to value ids ("" is an absent optional). */
static sv_status resolve_names(graph *g, int *capacity, char **names, size_t count, int **ids,
                               const Onnx__NodeProto *node, sv_message *err) {
    *ids = malloc((count ? count : 1) * sizeof **ids);
    if (!*ids)
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "model: out of host memory");
    for (size_t k = 0; k < count; k++) {
        if (!names[k] || !*names[k]) {
            (*ids)[k] = -1;
            continue;
        }
        (*ids)[k] = add_value(g, names[k], capacity);
        if ((*ids)[k] < 0)
            return sv_fail_message(err, SV_OUT_OF_MEMORY, "node '%s': too many tensors",
                                   graph_node_label(node));
    }
    return SV_OK;
}

sv_status graph_load(const void *data, size_t size, const char *base_dir, graph *g,
                     sv_message *err) {
    memset(g, 0, sizeof *g);
    g->proto = onnx__model_proto__unpack(NULL, size, data);
    if (!g->proto)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "not an ONNX model: the %zu bytes do not parse as a ModelProto "
                               "(truncated or not protobuf)",
                               size);
    const Onnx__GraphProto *gp = g->proto->graph;
    if (!gp)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "ONNX model has no graph");
    g->opset = -1;
    for (size_t k = 0; k < g->proto->n_opset_import; k++) {
        const Onnx__OperatorSetIdProto *o = g->proto->opset_import[k];
        if (!o->domain || !*o->domain || strcmp(o->domain, "ai.onnx") == 0)
            g->opset = o->has_version ? o->version : 1;
    }
    if (g->opset < 0)
        g->opset = g->proto->n_opset_import == 0 ? 1 : -1;
    if (g->opset < 1)
        return sv_fail_message(err, SV_UNSUPPORTED,
                               "the model imports no opset of the default ONNX domain");
    int capacity = 0;
    sv_status st = SV_OK;
    for (size_t k = 0; k < gp->n_initializer && st == SV_OK; k++) {
        const Onnx__TensorProto *t = gp->initializer[k];
        if (!t->name || !*t->name)
            return sv_fail_message(err, SV_INVALID_ARGUMENT, "initializer %zu has no name", k);
        int id = add_value(g, t->name, &capacity);
        if (id < 0)
            return sv_fail_message(err, SV_OUT_OF_MEMORY, "model: out of host memory");
        if (g->values[id].initializer)
            return sv_fail_message(err, SV_INVALID_ARGUMENT, "initializer '%s' appears twice",
                                   t->name);
        st = graph_tensor_to_const(t, base_dir, &g->values[id].initializer, err);
    }
    if (st != SV_OK)
        return st;
    g->inputs = malloc((gp->n_input + 1) * sizeof *g->inputs);
    g->outputs = malloc((gp->n_output + 1) * sizeof *g->outputs);
    if (!g->inputs || !g->outputs)
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "model: out of host memory");
    for (size_t k = 0; k < gp->n_input; k++) {
        const Onnx__ValueInfoProto *vi = gp->input[k];
        if (!vi->name || !*vi->name)
            return sv_fail_message(err, SV_INVALID_ARGUMENT, "graph input %zu has no name", k);
        int id = add_value(g, vi->name, &capacity);
        if (id < 0)
            return sv_fail_message(err, SV_OUT_OF_MEMORY, "model: out of host memory");
        if (g->values[id].initializer)
            continue; /* an initializer listed as an input (IR < 4): a constant with a default */
        if (g->values[id].is_input)
            return sv_fail_message(err, SV_INVALID_ARGUMENT, "graph input '%s' appears twice",
                                   vi->name);
        st = describe_input(vi, &g->values[id], err);
        if (st != SV_OK)
            return st;
        g->values[id].is_input = 1;
        g->inputs[g->ninputs++] = id;
    }
    g->nodes = calloc(gp->n_node + 1, sizeof *g->nodes);
    if (!g->nodes)
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "model: out of host memory");
    for (size_t n = 0; n < gp->n_node; n++) {
        const Onnx__NodeProto *node = gp->node[n];
        graph_node *gn = &g->nodes[g->nnodes++];
        gn->proto = node;
        if (!node->op_type || !*node->op_type)
            return sv_fail_message(err, SV_INVALID_ARGUMENT, "node %zu has no op type", n);
        if (node->domain && *node->domain && strcmp(node->domain, "ai.onnx") != 0)
            return sv_fail_message(err, SV_UNSUPPORTED,
                                   "node '%s': op '%s' of domain '%s' is not supported (only the "
                                   "default ONNX domain is)",
                                   graph_node_label(node), node->op_type, node->domain);
        st = resolve_names(g, &capacity, node->input, node->n_input, &gn->inputs, node, err);
        if (st == SV_OK)
            st = resolve_names(g, &capacity, node->output, node->n_output, &gn->outputs, node, err);
        if (st != SV_OK)
            return st;
        gn->ninputs = (int)node->n_input;
        gn->noutputs = (int)node->n_output;
    }
    for (size_t k = 0; k < gp->n_output; k++) {
        const Onnx__ValueInfoProto *vi = gp->output[k];
        int id = vi->name ? find_value(g, vi->name) : -1;
        if (id < 0)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "graph output '%s' is not produced by any node",
                                   vi->name ? vi->name : "(unnamed)");
        g->outputs[g->noutputs++] = id;
    }
    if (g->noutputs == 0)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "the graph has no outputs");
    return sort_nodes(g, err);
}

void graph_free(graph *g) {
    for (int i = 0; i < g->nvalues; i++)
        hc_free(g->values[i].initializer);
    for (int n = 0; n < g->nnodes; n++) {
        free(g->nodes[n].inputs);
        free(g->nodes[n].outputs);
    }
    free(g->values);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    if (g->proto)
        onnx__model_proto__free_unpacked(g->proto, NULL);
    memset(g, 0, sizeof *g);
}
