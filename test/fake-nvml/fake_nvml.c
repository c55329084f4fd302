/* A fake libnvidia-ml.so.1 for Vigil's tests: the real NVML ABI, answering from a scenario file (see README.md).
 *
 * Build "full" for a current driver, or with -DOLD_DRIVER for the oldest symbol set Vigil supports (no _v2 memory,
 * no _v2/_v3 processes, no ClocksEventReasons, no per-fan speeds, no MIG, no field values, no compute capability).
 * Besides NVML it exports a few fakeNvml* functions that tests call through a second dlopen of the same file:
 * Bun's process.env does not reach this library's getenv, so the scenario can also be set directly. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "fake_nvml.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_GPUS 64
#define MAX_PROCS 256
#define MAX_FANS 8
#define MAX_COUNT_RULES 16

/* Every NVML function the fake exports (in either flavour), so calls can be counted and refused by name. */
#define FAKE_FUNCTIONS(X)                                                                                              \
    X(nvmlInit_v2)                                                                                                     \
    X(nvmlShutdown)                                                                                                    \
    X(nvmlErrorString)                                                                                                 \
    X(nvmlSystemGetDriverVersion)                                                                                      \
    X(nvmlSystemGetCudaDriverVersion)                                                                                  \
    X(nvmlSystemGetCudaDriverVersion_v2)                                                                               \
    X(nvmlDeviceGetCount_v2)                                                                                           \
    X(nvmlDeviceGetHandleByIndex_v2)                                                                                   \
    X(nvmlDeviceGetName)                                                                                               \
    X(nvmlDeviceGetUUID)                                                                                               \
    X(nvmlDeviceGetSerial)                                                                                             \
    X(nvmlDeviceGetPciInfo_v2)                                                                                         \
    X(nvmlDeviceGetPciInfo_v3)                                                                                         \
    X(nvmlDeviceGetMemoryInfo)                                                                                         \
    X(nvmlDeviceGetMemoryInfo_v2)                                                                                      \
    X(nvmlDeviceGetUtilizationRates)                                                                                   \
    X(nvmlDeviceGetTemperature)                                                                                        \
    X(nvmlDeviceGetFieldValues)                                                                                        \
    X(nvmlDeviceGetPowerUsage)                                                                                         \
    X(nvmlDeviceGetEnforcedPowerLimit)                                                                                 \
    X(nvmlDeviceGetPowerManagementDefaultLimit)                                                                        \
    X(nvmlDeviceGetFanSpeed)                                                                                           \
    X(nvmlDeviceGetFanSpeed_v2)                                                                                        \
    X(nvmlDeviceGetNumFans)                                                                                            \
    X(nvmlDeviceGetClockInfo)                                                                                          \
    X(nvmlDeviceGetMaxClockInfo)                                                                                       \
    X(nvmlDeviceGetPcieThroughput)                                                                                     \
    X(nvmlDeviceGetCurrPcieLinkGeneration)                                                                             \
    X(nvmlDeviceGetCurrPcieLinkWidth)                                                                                  \
    X(nvmlDeviceGetEncoderUtilization)                                                                                 \
    X(nvmlDeviceGetDecoderUtilization)                                                                                 \
    X(nvmlDeviceGetPerformanceState)                                                                                   \
    X(nvmlDeviceGetCurrentClocksThrottleReasons)                                                                       \
    X(nvmlDeviceGetCurrentClocksEventReasons)                                                                          \
    X(nvmlDeviceGetTotalEccErrors)                                                                                     \
    X(nvmlDeviceGetCudaComputeCapability)                                                                              \
    X(nvmlDeviceGetMigMode)                                                                                            \
    X(nvmlDeviceGetComputeRunningProcesses)                                                                            \
    X(nvmlDeviceGetComputeRunningProcesses_v2)                                                                         \
    X(nvmlDeviceGetComputeRunningProcesses_v3)                                                                         \
    X(nvmlDeviceGetGraphicsRunningProcesses)                                                                           \
    X(nvmlDeviceGetGraphicsRunningProcesses_v2)                                                                        \
    X(nvmlDeviceGetGraphicsRunningProcesses_v3)

#define AS_ENUM(name) FN_##name,
#define AS_NAME(name) #name,
enum fake_fn { FAKE_FUNCTIONS(AS_ENUM) FN_COUNT };
static const char *const fn_names[FN_COUNT] = {FAKE_FUNCTIONS(AS_NAME)};
#define BIT(fn) (1ULL << (FN_##fn))

struct fake_process {
    unsigned int pid;
    unsigned long long used; /* bytes, or NVML_VALUE_NOT_AVAILABLE as unsigned */
};

struct fake_gpu {
    int index;
    char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
    char serial[NVML_DEVICE_SERIAL_BUFFER_SIZE];
    char bus_id[NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE];
    unsigned int pci_device_id;
    unsigned int util_gpu, util_mem;
    unsigned long long mem_total, mem_reserved, mem_used, mem_free;
    unsigned int temperature;
    int has_memory_temperature;
    unsigned int memory_temperature;
    unsigned int power_mw, power_limit_mw, power_default_mw;
    unsigned int fan_count, fans[MAX_FANS];
    unsigned int clocks[NVML_CLOCK_COUNT], max_clocks[NVML_CLOCK_COUNT];
    unsigned int pcie_tx, pcie_rx, link_gen, link_width;
    unsigned int encoder, decoder;
    unsigned int pstate;
    unsigned long long throttle;
    int has_ecc[2];                  /* [nvmlEccCounterType_t] */
    unsigned long long ecc[2][2];    /* [nvmlEccCounterType_t][nvmlMemoryErrorType_t] */
    int cc_major, cc_minor;
    unsigned int mig_current, mig_pending;
    unsigned int nprocs[2];          /* 0 compute, 1 graphics */
    struct fake_process procs[2][MAX_PROCS];
    unsigned long long given;        /* functions the scenario gave values for */
    unsigned long long refused;      /* functions the scenario says are NOT_SUPPORTED */
    long lost_from;                  /* GPU_IS_LOST from this nvmlDeviceGetCount_v2 call on; -1 never */
};

struct count_rule {
    long from; /* the nvmlDeviceGetCount_v2 call (1-based) from which... */
    unsigned int count; /* ...this many GPUs are visible */
};

static struct fake_gpu gpus[MAX_GPUS];
static unsigned int gpu_blocks;     /* gpu blocks in the scenario */
static unsigned int base_count;     /* visible GPUs before any count rule applies */
static unsigned int visible;        /* visible GPUs now */
static struct count_rule rules[MAX_COUNT_RULES];
static unsigned int nrules;
static long ticks;                  /* nvmlDeviceGetCount_v2 calls since init */
static char driver_version[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE];
static int cuda_version;
static nvmlReturn_t init_result;
static int init_refs;
static unsigned long long calls[FN_COUNT];
static char scenario_override[4096];

/* Functions that answer NOT_SUPPORTED unless the scenario gives their value. */
static const unsigned long long DATA_FUNCTIONS =
    BIT(nvmlDeviceGetSerial) | BIT(nvmlDeviceGetPciInfo_v2) | BIT(nvmlDeviceGetPciInfo_v3) |
    BIT(nvmlDeviceGetMemoryInfo) | BIT(nvmlDeviceGetMemoryInfo_v2) | BIT(nvmlDeviceGetUtilizationRates) |
    BIT(nvmlDeviceGetTemperature) | BIT(nvmlDeviceGetPowerUsage) | BIT(nvmlDeviceGetEnforcedPowerLimit) |
    BIT(nvmlDeviceGetPowerManagementDefaultLimit) | BIT(nvmlDeviceGetFanSpeed) | BIT(nvmlDeviceGetFanSpeed_v2) |
    BIT(nvmlDeviceGetNumFans) | BIT(nvmlDeviceGetClockInfo) | BIT(nvmlDeviceGetMaxClockInfo) |
    BIT(nvmlDeviceGetPcieThroughput) | BIT(nvmlDeviceGetCurrPcieLinkGeneration) |
    BIT(nvmlDeviceGetCurrPcieLinkWidth) | BIT(nvmlDeviceGetEncoderUtilization) |
    BIT(nvmlDeviceGetDecoderUtilization) | BIT(nvmlDeviceGetPerformanceState) |
    BIT(nvmlDeviceGetCurrentClocksThrottleReasons) | BIT(nvmlDeviceGetCurrentClocksEventReasons) |
    BIT(nvmlDeviceGetTotalEccErrors) | BIT(nvmlDeviceGetCudaComputeCapability) | BIT(nvmlDeviceGetMigMode);

/* ---------------------------------------------------------------------------------------------------------------- */
/* Scenario file                                                                                                    */

static int fn_by_name(const char *name) {
    for (int i = 0; i < FN_COUNT; i++)
        if (strcmp(fn_names[i], name) == 0) return i;
    return -1;
}

static nvmlReturn_t return_by_name(const char *text) {
    static const struct { const char *name; nvmlReturn_t code; } codes[] = {
        {"SUCCESS", NVML_SUCCESS},
        {"UNINITIALIZED", NVML_ERROR_UNINITIALIZED},
        {"NO_PERMISSION", NVML_ERROR_NO_PERMISSION},
        {"DRIVER_NOT_LOADED", NVML_ERROR_DRIVER_NOT_LOADED},
        {"LIBRARY_NOT_FOUND", NVML_ERROR_LIBRARY_NOT_FOUND},
        {"LIB_RM_VERSION_MISMATCH", NVML_ERROR_LIB_RM_VERSION_MISMATCH},
        {"UNKNOWN", NVML_ERROR_UNKNOWN},
    };
    const char *name = strncmp(text, "NVML_ERROR_", 11) == 0 ? text + 11 : text;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(codes[i].name, name) == 0) return codes[i].code;
    return (nvmlReturn_t)strtoul(text, NULL, 0);
}

static void reset_gpu(struct fake_gpu *g, int index) {
    memset(g, 0, sizeof *g);
    g->index = index;
    snprintf(g->uuid, sizeof g->uuid, "GPU-00000000-0000-0000-0000-%012d", index);
    snprintf(g->name, sizeof g->name, "Fake GPU");
    g->lost_from = -1;
}

static void reset_scenario(void) {
    for (int i = 0; i < MAX_GPUS; i++) reset_gpu(&gpus[i], i);
    gpu_blocks = 0;
    base_count = (unsigned int)-1;
    nrules = 0;
    ticks = 0;
    snprintf(driver_version, sizeof driver_version, "550.54.15");
    cuda_version = 12040;
    init_result = NVML_SUCCESS;
}

/* Copies and cuts to fit, as the scenario's strings may be longer than NVML's buffers. */
static void copy_text(char *dst, size_t size, const char *src) {
    size_t n = src ? strlen(src) : 0;
    if (n >= size) n = size - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = 0;
}

/* One "key value..." line. `rest` is everything after the key (for names with spaces). */
static int apply_line(const char *path, int lineno, struct fake_gpu **cur, char *key, char *rest) {
    char *tok[MAX_PROCS];
    int n = 0;
    char rest_copy[512];
    copy_text(rest_copy, sizeof rest_copy, rest);
    for (char *save = NULL, *t = strtok_r(rest, " \t", &save); t && n < MAX_PROCS; t = strtok_r(NULL, " \t", &save))
        tok[n++] = t;
#define NEED(k)                                                                                                        \
    do {                                                                                                               \
        if (n < (k)) goto bad;                                                                                         \
    } while (0)
#define NUM(i) strtoull(tok[i], NULL, 0)
    struct fake_gpu *g = *cur;

    /* Keys that belong to the whole machine. */
    if (strcmp(key, "driver") == 0) { NEED(1); copy_text(driver_version, sizeof driver_version, tok[0]); return 0; }
    if (strcmp(key, "cuda") == 0) { NEED(1); cuda_version = (int)NUM(0); return 0; }
    if (strcmp(key, "init") == 0) { NEED(1); init_result = return_by_name(tok[0]); return 0; }
    if (strcmp(key, "count") == 0) { NEED(1); base_count = (unsigned int)NUM(0); return 0; }
    if (strcmp(key, "count_from") == 0) {
        NEED(2);
        if (nrules == MAX_COUNT_RULES) goto bad;
        rules[nrules].from = (long)NUM(0);
        rules[nrules].count = (unsigned int)NUM(1);
        nrules++;
        return 0;
    }
    if (strcmp(key, "gpu") == 0) {
        NEED(1);
        unsigned long i = NUM(0);
        if (i >= MAX_GPUS) goto bad;
        *cur = &gpus[i];
        if (i + 1 > gpu_blocks) gpu_blocks = (unsigned int)i + 1;
        return 0;
    }

    /* Keys of the current GPU. */
    if (!g) goto bad;
    if (strcmp(key, "uuid") == 0) { NEED(1); copy_text(g->uuid, sizeof g->uuid, tok[0]); return 0; }
    if (strcmp(key, "name") == 0) { NEED(1); copy_text(g->name, sizeof g->name, rest_copy); return 0; }
    if (strcmp(key, "serial") == 0) {
        NEED(1);
        copy_text(g->serial, sizeof g->serial, tok[0]);
        g->given |= BIT(nvmlDeviceGetSerial);
        return 0;
    }
    if (strcmp(key, "pci") == 0) {
        NEED(1);
        copy_text(g->bus_id, sizeof g->bus_id, tok[0]);
        if (n > 1) g->pci_device_id = (unsigned int)NUM(1);
        g->given |= BIT(nvmlDeviceGetPciInfo_v2) | BIT(nvmlDeviceGetPciInfo_v3);
        return 0;
    }
    if (strcmp(key, "utilization") == 0) {
        NEED(2);
        g->util_gpu = (unsigned int)NUM(0);
        g->util_mem = (unsigned int)NUM(1);
        g->given |= BIT(nvmlDeviceGetUtilizationRates);
        return 0;
    }
    if (strcmp(key, "memory") == 0) {
        NEED(4);
        g->mem_total = NUM(0);
        g->mem_reserved = NUM(1);
        g->mem_used = NUM(2);
        g->mem_free = NUM(3);
        g->given |= BIT(nvmlDeviceGetMemoryInfo) | BIT(nvmlDeviceGetMemoryInfo_v2);
        return 0;
    }
    if (strcmp(key, "temperature") == 0) {
        NEED(1);
        g->temperature = (unsigned int)NUM(0);
        g->given |= BIT(nvmlDeviceGetTemperature);
        return 0;
    }
    if (strcmp(key, "memory_temperature") == 0) {
        NEED(1);
        g->memory_temperature = (unsigned int)NUM(0);
        g->has_memory_temperature = 1;
        return 0;
    }
    if (strcmp(key, "power") == 0) { NEED(1); g->power_mw = (unsigned int)NUM(0); g->given |= BIT(nvmlDeviceGetPowerUsage); return 0; }
    if (strcmp(key, "power_limit") == 0) {
        NEED(1);
        g->power_limit_mw = (unsigned int)NUM(0);
        g->given |= BIT(nvmlDeviceGetEnforcedPowerLimit);
        return 0;
    }
    if (strcmp(key, "power_default") == 0) {
        NEED(1);
        g->power_default_mw = (unsigned int)NUM(0);
        g->given |= BIT(nvmlDeviceGetPowerManagementDefaultLimit);
        return 0;
    }
    if (strcmp(key, "fans") == 0) {
        NEED(1);
        if (n > MAX_FANS) goto bad;
        g->fan_count = (unsigned int)n;
        for (int i = 0; i < n; i++) g->fans[i] = (unsigned int)NUM(i);
        g->given |= BIT(nvmlDeviceGetFanSpeed) | BIT(nvmlDeviceGetFanSpeed_v2) | BIT(nvmlDeviceGetNumFans);
        return 0;
    }
    if (strcmp(key, "clocks") == 0 || strcmp(key, "max_clocks") == 0) {
        NEED(3);
        int max = key[0] == 'm';
        unsigned int *c = max ? g->max_clocks : g->clocks;
        c[NVML_CLOCK_GRAPHICS] = (unsigned int)NUM(0);
        c[NVML_CLOCK_SM] = (unsigned int)NUM(1);
        c[NVML_CLOCK_MEM] = (unsigned int)NUM(2);
        c[NVML_CLOCK_VIDEO] = n > 3 ? (unsigned int)NUM(3) : 0;
        g->given |= max ? BIT(nvmlDeviceGetMaxClockInfo) : BIT(nvmlDeviceGetClockInfo);
        return 0;
    }
    if (strcmp(key, "pcie") == 0) {
        NEED(2);
        g->pcie_tx = (unsigned int)NUM(0);
        g->pcie_rx = (unsigned int)NUM(1);
        g->given |= BIT(nvmlDeviceGetPcieThroughput);
        return 0;
    }
    if (strcmp(key, "link") == 0) {
        NEED(2);
        g->link_gen = (unsigned int)NUM(0);
        g->link_width = (unsigned int)NUM(1);
        g->given |= BIT(nvmlDeviceGetCurrPcieLinkGeneration) | BIT(nvmlDeviceGetCurrPcieLinkWidth);
        return 0;
    }
    if (strcmp(key, "encoder") == 0) { NEED(1); g->encoder = (unsigned int)NUM(0); g->given |= BIT(nvmlDeviceGetEncoderUtilization); return 0; }
    if (strcmp(key, "decoder") == 0) { NEED(1); g->decoder = (unsigned int)NUM(0); g->given |= BIT(nvmlDeviceGetDecoderUtilization); return 0; }
    if (strcmp(key, "pstate") == 0) { NEED(1); g->pstate = (unsigned int)NUM(0); g->given |= BIT(nvmlDeviceGetPerformanceState); return 0; }
    if (strcmp(key, "throttle") == 0) {
        NEED(1);
        g->throttle = NUM(0);
        g->given |= BIT(nvmlDeviceGetCurrentClocksThrottleReasons) | BIT(nvmlDeviceGetCurrentClocksEventReasons);
        return 0;
    }
    if (strcmp(key, "ecc_volatile") == 0 || strcmp(key, "ecc_aggregate") == 0) {
        NEED(2);
        int counter = key[4] == 'v' ? NVML_VOLATILE_ECC : NVML_AGGREGATE_ECC;
        g->has_ecc[counter] = 1;
        g->ecc[counter][NVML_MEMORY_ERROR_TYPE_CORRECTED] = NUM(0);
        g->ecc[counter][NVML_MEMORY_ERROR_TYPE_UNCORRECTED] = NUM(1);
        g->given |= BIT(nvmlDeviceGetTotalEccErrors);
        return 0;
    }
    if (strcmp(key, "compute_capability") == 0) {
        NEED(2);
        g->cc_major = (int)NUM(0);
        g->cc_minor = (int)NUM(1);
        g->given |= BIT(nvmlDeviceGetCudaComputeCapability);
        return 0;
    }
    if (strcmp(key, "mig") == 0) {
        NEED(2);
        g->mig_current = (unsigned int)NUM(0);
        g->mig_pending = (unsigned int)NUM(1);
        g->given |= BIT(nvmlDeviceGetMigMode);
        return 0;
    }
    if (strcmp(key, "process") == 0) {
        NEED(3);
        int kind = strcmp(tok[0], "compute") == 0 ? 0 : strcmp(tok[0], "graphics") == 0 ? 1 : -1;
        if (kind < 0 || g->nprocs[kind] == MAX_PROCS) goto bad;
        struct fake_process *p = &g->procs[kind][g->nprocs[kind]++];
        p->pid = (unsigned int)NUM(1);
        p->used = strcmp(tok[2], "na") == 0 ? (unsigned long long)NVML_VALUE_NOT_AVAILABLE : NUM(2);
        return 0;
    }
    if (strcmp(key, "unsupported") == 0) {
        for (int i = 0; i < n; i++) {
            int fn = fn_by_name(tok[i]);
            if (fn < 0) {
                fprintf(stderr, "fake_nvml: %s:%d: unknown function %s\n", path, lineno, tok[i]);
                return -1;
            }
            g->refused |= 1ULL << fn;
        }
        return 0;
    }
    if (strcmp(key, "lost_from") == 0) { NEED(1); g->lost_from = (long)NUM(0); return 0; }

bad:
    fprintf(stderr, "fake_nvml: %s:%d: cannot read \"%s %s\"\n", path, lineno, key, rest_copy);
    return -1;
#undef NEED
#undef NUM
}

static int load_scenario(void) {
    const char *path = scenario_override[0] ? scenario_override : getenv("FAKE_NVML_SCENARIO");
    reset_scenario();
    if (!path || !*path) {
        fprintf(stderr, "fake_nvml: no scenario (set FAKE_NVML_SCENARIO or call fakeNvmlSetScenario)\n");
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "fake_nvml: cannot open scenario %s\n", path);
        return -1;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    struct fake_gpu *cur = NULL;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *s = line;
        while (isspace((unsigned char)*s)) s++;
        char *end = s + strlen(s);
        while (end > s && isspace((unsigned char)end[-1])) *--end = 0;
        if (!*s) continue;
        char *key = s;
        while (*s && !isspace((unsigned char)*s)) s++;
        if (*s) *s++ = 0;
        while (isspace((unsigned char)*s)) s++;
        rc = apply_line(path, lineno, &cur, key, s);
    }
    fclose(f);
    if (base_count == (unsigned int)-1) base_count = gpu_blocks;
    visible = base_count;
    return rc;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Test hooks                                                                                                       */

/** Reads scenarios from `path` from the next nvmlInit_v2 on (NULL or "" goes back to FAKE_NVML_SCENARIO). */
EXPORT void fakeNvmlSetScenario(const char *path) { copy_text(scenario_override, sizeof scenario_override, path); }

/** Calls of an NVML function since the last nvmlInit_v2 (or fakeNvmlResetCalls); -1 for a name the fake lacks. */
EXPORT long long fakeNvmlCallCount(const char *name) {
    int fn = fn_by_name(name);
    return fn < 0 ? -1 : (long long)calls[fn];
}

EXPORT void fakeNvmlResetCalls(void) { memset(calls, 0, sizeof calls); }

/** sizeof of "type" or offsetof of "type.field", as this compiler lays out the structs; 0xffffffff if unknown. */
EXPORT unsigned int fakeNvmlLayout(const char *what) {
#define SIZE(t) {#t, sizeof(t)}
#define OFF(t, f) {#t "." #f, __builtin_offsetof(t, f)}
    static const struct { const char *name; unsigned int value; } layout[] = {
        SIZE(nvmlMemory_t),         OFF(nvmlMemory_t, total),         OFF(nvmlMemory_t, free),
        OFF(nvmlMemory_t, used),    SIZE(nvmlMemory_v2_t),            OFF(nvmlMemory_v2_t, version),
        OFF(nvmlMemory_v2_t, total), OFF(nvmlMemory_v2_t, reserved),  OFF(nvmlMemory_v2_t, free),
        OFF(nvmlMemory_v2_t, used), SIZE(nvmlUtilization_t),          OFF(nvmlUtilization_t, gpu),
        OFF(nvmlUtilization_t, memory), SIZE(nvmlProcessInfo_v1_t),   OFF(nvmlProcessInfo_v1_t, pid),
        OFF(nvmlProcessInfo_v1_t, usedGpuMemory), SIZE(nvmlProcessInfo_t), OFF(nvmlProcessInfo_t, pid),
        OFF(nvmlProcessInfo_t, usedGpuMemory), OFF(nvmlProcessInfo_t, gpuInstanceId),
        OFF(nvmlProcessInfo_t, computeInstanceId), SIZE(nvmlPciInfo_t), OFF(nvmlPciInfo_t, busIdLegacy),
        OFF(nvmlPciInfo_t, domain), OFF(nvmlPciInfo_t, bus), OFF(nvmlPciInfo_t, device),
        OFF(nvmlPciInfo_t, pciDeviceId), OFF(nvmlPciInfo_t, pciSubSystemId), OFF(nvmlPciInfo_t, busId),
        SIZE(nvmlFieldValue_t),     OFF(nvmlFieldValue_t, fieldId),   OFF(nvmlFieldValue_t, scopeId),
        OFF(nvmlFieldValue_t, timestamp), OFF(nvmlFieldValue_t, latencyUsec), OFF(nvmlFieldValue_t, valueType),
        OFF(nvmlFieldValue_t, nvmlReturn), OFF(nvmlFieldValue_t, value), {"nvmlMemory_v2", nvmlMemory_v2},
    };
#undef SIZE
#undef OFF
    for (size_t i = 0; i < sizeof layout / sizeof layout[0]; i++)
        if (strcmp(layout[i].name, what) == 0) return layout[i].value;
    return 0xffffffffu;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* NVML                                                                                                             */

static nvmlReturn_t put_text(char *dst, unsigned int length, const char *src) {
    if (!dst) return NVML_ERROR_INVALID_ARGUMENT;
    if (strlen(src) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(dst, src, strlen(src) + 1);
    return NVML_SUCCESS;
}

static nvmlReturn_t device_check(nvmlDevice_t device, enum fake_fn fn, struct fake_gpu **out) {
    calls[fn]++;
    if (init_refs == 0) return NVML_ERROR_UNINITIALIZED;
    struct fake_gpu *g = (struct fake_gpu *)device;
    if (g < gpus || g >= gpus + MAX_GPUS || (unsigned int)g->index >= visible) return NVML_ERROR_INVALID_ARGUMENT;
    if (g->lost_from >= 0 && ticks >= g->lost_from) return NVML_ERROR_GPU_IS_LOST;
    if ((g->refused & (1ULL << fn)) || ((DATA_FUNCTIONS & (1ULL << fn)) && !(g->given & (1ULL << fn))))
        return NVML_ERROR_NOT_SUPPORTED;
    *out = g;
    return NVML_SUCCESS;
}

/* Opens a device function: counts the call, then answers UNINITIALIZED / INVALID_ARGUMENT / GPU_IS_LOST /
 * NOT_SUPPORTED the way the scenario says, or leaves `g` pointing at the GPU. */
#define DEVICE_CALL(fn)                                                                                                \
    struct fake_gpu *g = NULL;                                                                                         \
    do {                                                                                                               \
        nvmlReturn_t rc_ = device_check(device, FN_##fn, &g);                                                          \
        if (rc_ != NVML_SUCCESS) return rc_;                                                                           \
    } while (0)

#define SYSTEM_CALL(fn)                                                                                                \
    do {                                                                                                               \
        calls[FN_##fn]++;                                                                                              \
        if (init_refs == 0) return NVML_ERROR_UNINITIALIZED;                                                           \
    } while (0)

EXPORT nvmlReturn_t nvmlInit_v2(void) {
    if (init_refs == 0) {
        memset(calls, 0, sizeof calls);
        if (load_scenario() != 0) {
            calls[FN_nvmlInit_v2]++;
            return NVML_ERROR_UNKNOWN;
        }
        if (init_result != NVML_SUCCESS) {
            calls[FN_nvmlInit_v2]++;
            return init_result;
        }
    }
    calls[FN_nvmlInit_v2]++;
    init_refs++;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlShutdown(void) {
    calls[FN_nvmlShutdown]++;
    if (init_refs == 0) return NVML_ERROR_UNINITIALIZED;
    init_refs--;
    return NVML_SUCCESS;
}

EXPORT const char *nvmlErrorString(nvmlReturn_t result) {
    calls[FN_nvmlErrorString]++;
    switch (result) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
    case NVML_ERROR_ALREADY_INITIALIZED: return "Already Initialized";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_LIBRARY_NOT_FOUND: return "NVML Shared Library Not Found";
    case NVML_ERROR_FUNCTION_NOT_FOUND: return "Function Not Found";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH: return "RM has detected an NVML/RM version mismatch.";
    default: return "Unknown Error";
    }
}

EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
    SYSTEM_CALL(nvmlSystemGetDriverVersion);
    return put_text(version, length, driver_version);
}

EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *cudaDriverVersion) {
    SYSTEM_CALL(nvmlSystemGetCudaDriverVersion);
    if (!cudaDriverVersion) return NVML_ERROR_INVALID_ARGUMENT;
    *cudaDriverVersion = cuda_version;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount) {
    SYSTEM_CALL(nvmlDeviceGetCount_v2);
    if (!deviceCount) return NVML_ERROR_INVALID_ARGUMENT;
    ticks++;
    visible = base_count;
    for (unsigned int i = 0; i < nrules; i++)
        if (ticks >= rules[i].from) visible = rules[i].count;
    *deviceCount = visible;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    SYSTEM_CALL(nvmlDeviceGetHandleByIndex_v2);
    if (!device || index >= visible || index >= MAX_GPUS) return NVML_ERROR_INVALID_ARGUMENT;
    if (gpus[index].lost_from >= 0 && ticks >= gpus[index].lost_from) return NVML_ERROR_GPU_IS_LOST;
    *device = (nvmlDevice_t)&gpus[index];
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
    DEVICE_CALL(nvmlDeviceGetName);
    return put_text(name, length, g->name);
}

EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length) {
    DEVICE_CALL(nvmlDeviceGetUUID);
    return put_text(uuid, length, g->uuid);
}

EXPORT nvmlReturn_t nvmlDeviceGetSerial(nvmlDevice_t device, char *serial, unsigned int length) {
    DEVICE_CALL(nvmlDeviceGetSerial);
    return put_text(serial, length, g->serial);
}

static nvmlReturn_t fill_pci(struct fake_gpu *g, nvmlPciInfo_t *pci) {
    if (!pci) return NVML_ERROR_INVALID_ARGUMENT;
    memset(pci, 0, sizeof *pci);
    unsigned int domain = 0, bus = 0, dev = 0;
    sscanf(g->bus_id, "%x:%x:%x", &domain, &bus, &dev);
    pci->domain = domain;
    pci->bus = bus;
    pci->device = dev;
    pci->pciDeviceId = g->pci_device_id;
    snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%04X:%02X:%02X.0", domain & 0xffff, bus, dev);
    copy_text(pci->busId, sizeof pci->busId, g->bus_id);
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v2(nvmlDevice_t device, nvmlPciInfo_t *pci) {
    DEVICE_CALL(nvmlDeviceGetPciInfo_v2);
    return fill_pci(g, pci);
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory) {
    DEVICE_CALL(nvmlDeviceGetMemoryInfo);
    if (!memory) return NVML_ERROR_INVALID_ARGUMENT;
    /* v1 has no "reserved": its "used" counts the driver's reservation too, so an idle GPU looks busy (the reason
     * for nvmlMemory_v2_t). The fake reproduces that, which also shows which call the collector made. */
    memory->total = g->mem_total;
    memory->free = g->mem_free;
    memory->used = g->mem_used + g->mem_reserved;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization) {
    DEVICE_CALL(nvmlDeviceGetUtilizationRates);
    if (!utilization) return NVML_ERROR_INVALID_ARGUMENT;
    utilization->gpu = g->util_gpu;
    utilization->memory = g->util_mem;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, nvmlTemperatureSensors_t sensorType, unsigned int *temp) {
    DEVICE_CALL(nvmlDeviceGetTemperature);
    if (!temp || sensorType != NVML_TEMPERATURE_GPU) return NVML_ERROR_INVALID_ARGUMENT;
    *temp = g->temperature;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power) {
    DEVICE_CALL(nvmlDeviceGetPowerUsage);
    if (!power) return NVML_ERROR_INVALID_ARGUMENT;
    *power = g->power_mw;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int *limit) {
    DEVICE_CALL(nvmlDeviceGetEnforcedPowerLimit);
    if (!limit) return NVML_ERROR_INVALID_ARGUMENT;
    *limit = g->power_limit_mw;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t device, unsigned int *defaultLimit) {
    DEVICE_CALL(nvmlDeviceGetPowerManagementDefaultLimit);
    if (!defaultLimit) return NVML_ERROR_INVALID_ARGUMENT;
    *defaultLimit = g->power_default_mw;
    return NVML_SUCCESS;
}

/* Like the real driver, the unversioned call reports fan 0. */
EXPORT nvmlReturn_t nvmlDeviceGetFanSpeed(nvmlDevice_t device, unsigned int *speed) {
    DEVICE_CALL(nvmlDeviceGetFanSpeed);
    if (!speed) return NVML_ERROR_INVALID_ARGUMENT;
    *speed = g->fans[0];
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, nvmlClockType_t type, unsigned int *clock) {
    DEVICE_CALL(nvmlDeviceGetClockInfo);
    if (!clock || (unsigned int)type >= NVML_CLOCK_COUNT) return NVML_ERROR_INVALID_ARGUMENT;
    *clock = g->clocks[type];
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, nvmlClockType_t type, unsigned int *clock) {
    DEVICE_CALL(nvmlDeviceGetMaxClockInfo);
    if (!clock || (unsigned int)type >= NVML_CLOCK_COUNT) return NVML_ERROR_INVALID_ARGUMENT;
    *clock = g->max_clocks[type];
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetPcieThroughput(nvmlDevice_t device, nvmlPcieUtilCounter_t counter, unsigned int *value) {
    DEVICE_CALL(nvmlDeviceGetPcieThroughput);
    if (!value || (unsigned int)counter >= NVML_PCIE_UTIL_COUNT) return NVML_ERROR_INVALID_ARGUMENT;
    *value = counter == NVML_PCIE_UTIL_TX_BYTES ? g->pcie_tx : g->pcie_rx;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCurrPcieLinkGeneration(nvmlDevice_t device, unsigned int *currLinkGen) {
    DEVICE_CALL(nvmlDeviceGetCurrPcieLinkGeneration);
    if (!currLinkGen) return NVML_ERROR_INVALID_ARGUMENT;
    *currLinkGen = g->link_gen;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCurrPcieLinkWidth(nvmlDevice_t device, unsigned int *currLinkWidth) {
    DEVICE_CALL(nvmlDeviceGetCurrPcieLinkWidth);
    if (!currLinkWidth) return NVML_ERROR_INVALID_ARGUMENT;
    *currLinkWidth = g->link_width;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetEncoderUtilization(nvmlDevice_t device, unsigned int *utilization, unsigned int *samplingPeriodUs) {
    DEVICE_CALL(nvmlDeviceGetEncoderUtilization);
    if (!utilization || !samplingPeriodUs) return NVML_ERROR_INVALID_ARGUMENT;
    *utilization = g->encoder;
    *samplingPeriodUs = 167000;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetDecoderUtilization(nvmlDevice_t device, unsigned int *utilization, unsigned int *samplingPeriodUs) {
    DEVICE_CALL(nvmlDeviceGetDecoderUtilization);
    if (!utilization || !samplingPeriodUs) return NVML_ERROR_INVALID_ARGUMENT;
    *utilization = g->decoder;
    *samplingPeriodUs = 167000;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t device, nvmlPstates_t *pState) {
    DEVICE_CALL(nvmlDeviceGetPerformanceState);
    if (!pState) return NVML_ERROR_INVALID_ARGUMENT;
    *pState = (nvmlPstates_t)g->pstate;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device, unsigned long long *clocksThrottleReasons) {
    DEVICE_CALL(nvmlDeviceGetCurrentClocksThrottleReasons);
    if (!clocksThrottleReasons) return NVML_ERROR_INVALID_ARGUMENT;
    *clocksThrottleReasons = g->throttle;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, nvmlMemoryErrorType_t errorType,
                                                nvmlEccCounterType_t counterType, unsigned long long *eccCounts) {
    DEVICE_CALL(nvmlDeviceGetTotalEccErrors);
    if (!eccCounts || (unsigned int)errorType > 1 || (unsigned int)counterType > 1) return NVML_ERROR_INVALID_ARGUMENT;
    if (!g->has_ecc[counterType]) return NVML_ERROR_NOT_SUPPORTED;
    *eccCounts = g->ecc[counterType][errorType];
    return NVML_SUCCESS;
}

/* The running-process calls share one contract: *infoCount holds the buffer's capacity on the way in and the number
 * of processes on the way out; a short (or NULL) buffer gets INSUFFICIENT_SIZE with the count. */
static nvmlReturn_t list_processes(struct fake_gpu *g, int kind, unsigned int *infoCount, void *infos, size_t stride) {
    if (!infoCount) return NVML_ERROR_INVALID_ARGUMENT;
    unsigned int n = g->nprocs[kind];
    if (*infoCount < n || (n > 0 && !infos)) {
        *infoCount = n;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    for (unsigned int i = 0; i < n; i++) {
        char *slot = (char *)infos + i * stride;
        if (stride == sizeof(nvmlProcessInfo_v1_t)) {
            nvmlProcessInfo_v1_t *p = (nvmlProcessInfo_v1_t *)slot;
            p->pid = g->procs[kind][i].pid;
            p->usedGpuMemory = g->procs[kind][i].used;
        } else {
            nvmlProcessInfo_t *p = (nvmlProcessInfo_t *)slot;
            p->pid = g->procs[kind][i].pid;
            p->usedGpuMemory = g->procs[kind][i].used;
            p->gpuInstanceId = 0xFFFFFFFFu;
            p->computeInstanceId = 0xFFFFFFFFu;
        }
    }
    *infoCount = n;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device, unsigned int *infoCount, nvmlProcessInfo_v1_t *infos) {
    DEVICE_CALL(nvmlDeviceGetComputeRunningProcesses);
    return list_processes(g, 0, infoCount, infos, sizeof(nvmlProcessInfo_v1_t));
}

EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses(nvmlDevice_t device, unsigned int *infoCount, nvmlProcessInfo_v1_t *infos) {
    DEVICE_CALL(nvmlDeviceGetGraphicsRunningProcesses);
    return list_processes(g, 1, infoCount, infos, sizeof(nvmlProcessInfo_v1_t));
}

#ifndef OLD_DRIVER
/* Newer symbols: a driver older than they are lacks them altogether, which is what the OLD_DRIVER build shows. */

EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *cudaDriverVersion) {
    SYSTEM_CALL(nvmlSystemGetCudaDriverVersion_v2);
    if (!cudaDriverVersion) return NVML_ERROR_INVALID_ARGUMENT;
    *cudaDriverVersion = cuda_version;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci) {
    DEVICE_CALL(nvmlDeviceGetPciInfo_v3);
    return fill_pci(g, pci);
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory) {
    DEVICE_CALL(nvmlDeviceGetMemoryInfo_v2);
    if (!memory) return NVML_ERROR_INVALID_ARGUMENT;
    if (memory->version != nvmlMemory_v2) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    memory->total = g->mem_total;
    memory->reserved = g->mem_reserved;
    memory->free = g->mem_free;
    memory->used = g->mem_used;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int valuesCount, nvmlFieldValue_t *values) {
    DEVICE_CALL(nvmlDeviceGetFieldValues);
    if (!values || valuesCount < 0) return NVML_ERROR_INVALID_ARGUMENT;
    struct timeval now;
    gettimeofday(&now, NULL);
    for (int i = 0; i < valuesCount; i++) {
        nvmlFieldValue_t *v = &values[i];
        v->timestamp = (long long)now.tv_sec * 1000000 + now.tv_usec;
        v->latencyUsec = 0;
        if (v->fieldId == NVML_FI_DEV_MEMORY_TEMP && g->has_memory_temperature) {
            v->valueType = NVML_VALUE_TYPE_UNSIGNED_INT;
            v->value.ullVal = 0;
            v->value.uiVal = g->memory_temperature;
            v->nvmlReturn = NVML_SUCCESS;
        } else {
            v->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        }
    }
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetNumFans(nvmlDevice_t device, unsigned int *numFans) {
    DEVICE_CALL(nvmlDeviceGetNumFans);
    if (!numFans) return NVML_ERROR_INVALID_ARGUMENT;
    *numFans = g->fan_count;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetFanSpeed_v2(nvmlDevice_t device, unsigned int fan, unsigned int *speed) {
    DEVICE_CALL(nvmlDeviceGetFanSpeed_v2);
    if (!speed || fan >= g->fan_count) return NVML_ERROR_INVALID_ARGUMENT;
    *speed = g->fans[fan];
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device, unsigned long long *clocksEventReasons) {
    DEVICE_CALL(nvmlDeviceGetCurrentClocksEventReasons);
    if (!clocksEventReasons) return NVML_ERROR_INVALID_ARGUMENT;
    *clocksEventReasons = g->throttle;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t device, int *major, int *minor) {
    DEVICE_CALL(nvmlDeviceGetCudaComputeCapability);
    if (!major || !minor) return NVML_ERROR_INVALID_ARGUMENT;
    *major = g->cc_major;
    *minor = g->cc_minor;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *currentMode, unsigned int *pendingMode) {
    DEVICE_CALL(nvmlDeviceGetMigMode);
    if (!currentMode || !pendingMode) return NVML_ERROR_INVALID_ARGUMENT;
    *currentMode = g->mig_current;
    *pendingMode = g->mig_pending;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned int *infoCount, nvmlProcessInfo_t *infos) {
    DEVICE_CALL(nvmlDeviceGetComputeRunningProcesses_v2);
    return list_processes(g, 0, infoCount, infos, sizeof(nvmlProcessInfo_t));
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *infoCount, nvmlProcessInfo_t *infos) {
    DEVICE_CALL(nvmlDeviceGetComputeRunningProcesses_v3);
    return list_processes(g, 0, infoCount, infos, sizeof(nvmlProcessInfo_t));
}

EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v2(nvmlDevice_t device, unsigned int *infoCount, nvmlProcessInfo_t *infos) {
    DEVICE_CALL(nvmlDeviceGetGraphicsRunningProcesses_v2);
    return list_processes(g, 1, infoCount, infos, sizeof(nvmlProcessInfo_t));
}

EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t device, unsigned int *infoCount, nvmlProcessInfo_t *infos) {
    DEVICE_CALL(nvmlDeviceGetGraphicsRunningProcesses_v3);
    return list_processes(g, 1, infoCount, infos, sizeof(nvmlProcessInfo_t));
}
#endif
