// Test helper called through ctypes: each allocator with known sizes, threads, a benchmark loop.
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

// The compiler may elide or rewrite allocator calls (realloc(NULL) -> malloc, unused malloc/free
// pairs removed): values go through volatile variables so each call really happens.
static void *volatile null_pointer = NULL;
static volatile size_t huge_size = (size_t)-1 / 2;

// Each function returns 0 on success; addresses are stored in out[] for the test to match.
int each_allocator(void **out) {
    out[0] = malloc(1001);
    out[1] = calloc(7, 111);
    out[2] = realloc(out[0], 2002);          // FREE(out[0]) + realloc(2002)
    out[3] = realloc(null_pointer, 3003);            // realloc of NULL: no FREE
    if (posix_memalign(&out[4], 64, 4004)) return 1;
    out[5] = aligned_alloc(256, 5120);
    out[6] = memalign(128, 6006);
    out[7] = valloc(7007);
    out[8] = pvalloc(8008);
    out[9] = mmap(NULL, 90000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    free(NULL);                               // records nothing
    munmap(out[9], 90000);
    free(out[1]); free(out[2]); free(out[3]); free(out[4]);
    free(out[5]); free(out[6]); free(out[7]); free(out[8]);
    return 0;
}

// errno and results must be what libc says. Returns a bitmask of failures (0 = all good).
int errno_checks(void) {
    int fails = 0;
    void *p = (void *)1;
    errno = 0;
    int rc = posix_memalign(&p, 3, 100);     // not a power of two: EINVAL returned, errno untouched
    if (rc != EINVAL) fails |= 1;
    if (errno != 0) fails |= 2;
    errno = 0;
    void *volatile q = malloc(huge_size);
    if (q != NULL || errno != ENOMEM) fails |= 4;
    errno = 1234;
    void *volatile r = malloc(10);
    free(r);
    if (errno != 1234) fails |= 8;
    errno = 0;
    void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, 987654, 0);
    if (m == MAP_FAILED && errno == 0) fails |= 16;
    return fails;
}

struct worker { int count; };
static void *worker_main(void *arg) {
    struct worker *w = arg;
    prctl(PR_SET_NAME, "memworker");
    for (int i = 0; i < w->count; i++) {
        void *volatile p = malloc(16 + (i & 63));
        free(p);
    }
    return NULL;
}

int run_threads(int threads, int count) {
    pthread_t ids[64];
    struct worker w = {count};
    if (threads > 64) return -1;
    for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, worker_main, &w);
    for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
    return 0;
}

// Nanoseconds per malloc+free pair.
double bench(int count) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < count; i++) {
        void *volatile p = malloc(64);
        free(p);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / count;
}
