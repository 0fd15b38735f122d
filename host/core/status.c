/* Status names and descriptions, from the X-macro table in svertka.h. */
#include "svertka.h"

#define SV_STR_(x) #x
#define SV_XSTR_(x) SV_STR_(x)

const char *sv_version(void) {
    return SV_XSTR_(SV_VERSION_MAJOR) "." SV_XSTR_(SV_VERSION_MINOR) "." SV_XSTR_(SV_VERSION_PATCH);
}

const char *sv_status_name(sv_status status) {
    switch (status) {
#define SV_STATUS_NAME_(name, value, text)                                                         \
    case SV_##name: return "SV_" #name;
        SV_STATUS_MAP(SV_STATUS_NAME_)
#undef SV_STATUS_NAME_
    }
    return "SV_UNKNOWN_STATUS";
}

const char *sv_status_string(sv_status status) {
    switch (status) {
#define SV_STATUS_TEXT_(name, value, text)                                                         \
    case SV_##name: return text;
        SV_STATUS_MAP(SV_STATUS_TEXT_)
#undef SV_STATUS_TEXT_
    }
    return "unknown status code";
}
