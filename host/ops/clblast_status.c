/* CLBlast status codes as names in error messages. */
#include "ops/clblast_status.h"

#define SV_CLBLAST_STATUS_MAP(X)                                                                   \
    X(CLBlastSuccess)                                                                              \
    X(CLBlastOpenCLCompilerNotAvailable)                                                           \
    X(CLBlastTempBufferAllocFailure)                                                               \
    X(CLBlastOpenCLOutOfResources)                                                                 \
    X(CLBlastOpenCLOutOfHostMemory)                                                                \
    X(CLBlastOpenCLBuildProgramFailure)                                                            \
    X(CLBlastInvalidValue)                                                                         \
    X(CLBlastInvalidCommandQueue)                                                                  \
    X(CLBlastInvalidMemObject)                                                                     \
    X(CLBlastInvalidBinary)                                                                        \
    X(CLBlastInvalidBuildOptions)                                                                  \
    X(CLBlastInvalidProgram)                                                                       \
    X(CLBlastInvalidProgramExecutable)                                                             \
    X(CLBlastInvalidKernelName)                                                                    \
    X(CLBlastInvalidKernelDefinition)                                                              \
    X(CLBlastInvalidKernel)                                                                        \
    X(CLBlastInvalidArgIndex)                                                                      \
    X(CLBlastInvalidArgValue)                                                                      \
    X(CLBlastInvalidArgSize)                                                                       \
    X(CLBlastInvalidKernelArgs)                                                                    \
    X(CLBlastInvalidLocalNumDimensions)                                                            \
    X(CLBlastInvalidLocalThreadsTotal)                                                             \
    X(CLBlastInvalidLocalThreadsDim)                                                               \
    X(CLBlastInvalidGlobalOffset)                                                                  \
    X(CLBlastInvalidEventWaitList)                                                                 \
    X(CLBlastInvalidEvent)                                                                         \
    X(CLBlastInvalidOperation)                                                                     \
    X(CLBlastInvalidBufferSize)                                                                    \
    X(CLBlastInvalidGlobalWorkSize)                                                                \
    X(CLBlastNotImplemented)                                                                       \
    X(CLBlastInvalidMatrixA)                                                                       \
    X(CLBlastInvalidMatrixB)                                                                       \
    X(CLBlastInvalidMatrixC)                                                                       \
    X(CLBlastInvalidVectorX)                                                                       \
    X(CLBlastInvalidVectorY)                                                                       \
    X(CLBlastInvalidDimension)                                                                     \
    X(CLBlastInvalidLeadDimA)                                                                      \
    X(CLBlastInvalidLeadDimB)                                                                      \
    X(CLBlastInvalidLeadDimC)                                                                      \
    X(CLBlastInvalidIncrementX)                                                                    \
    X(CLBlastInvalidIncrementY)                                                                    \
    X(CLBlastInsufficientMemoryA)                                                                  \
    X(CLBlastInsufficientMemoryB)                                                                  \
    X(CLBlastInsufficientMemoryC)                                                                  \
    X(CLBlastInsufficientMemoryX)                                                                  \
    X(CLBlastInsufficientMemoryY)                                                                  \
    X(CLBlastInsufficientMemoryTemp)                                                               \
    X(CLBlastInvalidBatchCount)                                                                    \
    X(CLBlastInvalidOverrideKernel)                                                                \
    X(CLBlastMissingOverrideParameter)                                                             \
    X(CLBlastInvalidLocalMemUsage)                                                                 \
    X(CLBlastNoHalfPrecision)                                                                      \
    X(CLBlastNoDoublePrecision)                                                                    \
    X(CLBlastInvalidVectorScalar)                                                                  \
    X(CLBlastInsufficientMemoryScalar)                                                             \
    X(CLBlastDatabaseError)                                                                        \
    X(CLBlastUnknownError)                                                                         \
    X(CLBlastUnexpectedError)

/* The name of a CLBlast status. CLBlast passes some OpenCL errors through unchanged, so a code
 * outside its enumeration is looked up among OpenCL's. */
static const char *clblast_status_name(int code) {
    switch (code) {
#define SV_CLBLAST_CASE_(name)                                                                     \
    case name: return #name;
        SV_CLBLAST_STATUS_MAP(SV_CLBLAST_CASE_)
#undef SV_CLBLAST_CASE_
    default: return sv_cl_error_name((cl_int)code);
    }
}

sv_status sv_clblast_result(sv_context *ctx, const char *op, const char *routine,
                            CLBlastStatusCode code) {
    if (code == CLBlastSuccess)
        return sv_guard_after(ctx, routine);
    return sv_fail(ctx, SV_OPENCL, "%s: %s failed: %s (%d)", op, routine,
                   clblast_status_name((int)code), (int)code);
}
