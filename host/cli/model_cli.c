/* What the model subcommands share: opening a context and a model, shapes as text. */
#include "cli/cli.h"

#include <stdio.h>

int cli_open_model(const char *spec, const char *path, int keep, long batch, sv_context **ctx,
                   sv_model **model) {
    *ctx = NULL;
    *model = NULL;
    sv_message msg;
    if (sv_context_create(spec, ctx, &msg) != SV_OK)
        return cli_error(CLI_FAILURE, "%s", msg.text);
    sv_model_options options = {keep, SV_CONV_AUTO};
    if (sv_model_load(*ctx, path, &options, model) != SV_OK ||
        (batch > 0 && sv_model_set_batch(*model, batch) != SV_OK)) {
        cli_error(CLI_FAILURE, "%s", sv_last_error(*ctx));
        sv_model_release(*model);
        sv_context_release(*ctx);
        *model = NULL;
        *ctx = NULL;
        return CLI_FAILURE;
    }
    return CLI_OK;
}

int64_t cli_count(int rank, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

const char *cli_shape(char *buf, size_t size, int rank, const int64_t *dims) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && used < size; i++)
        used +=
            (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld", (long long)dims[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
    return buf;
}
