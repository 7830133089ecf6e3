/* wasi-threads smoke test: pthread_create/join, mutex-protected counter, condvar handoff. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define NTHREADS 4
#define NITERS 10000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter = 0;

static void *worker(void *arg) {
    (void)arg;
    for (int i = 0; i < NITERS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static pthread_mutex_t hand_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hand_cond = PTHREAD_COND_INITIALIZER;
static int hand_value = 0; /* 0 = empty; producer writes 42, consumer replies value+1 */
static int hand_reply = 0;

static void *consumer(void *arg) {
    (void)arg;
    pthread_mutex_lock(&hand_lock);
    while (hand_value == 0)
        pthread_cond_wait(&hand_cond, &hand_lock);
    hand_reply = hand_value + 1;
    pthread_cond_signal(&hand_cond);
    pthread_mutex_unlock(&hand_lock);
    return (void *)(long)hand_reply;
}

int main(void) {
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        if (pthread_create(&t[i], NULL, worker, NULL) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    printf("counter = %ld (expected %d)\n", counter, NTHREADS * NITERS);

    pthread_t c;
    if (pthread_create(&c, NULL, consumer, NULL) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }
    pthread_mutex_lock(&hand_lock);
    hand_value = 42;
    pthread_cond_signal(&hand_cond);
    while (hand_reply == 0)
        pthread_cond_wait(&hand_cond, &hand_lock);
    pthread_mutex_unlock(&hand_lock);
    void *ret = NULL;
    pthread_join(c, &ret);
    printf("handoff: sent %d, got reply %d (thread returned %ld)\n", hand_value, hand_reply, (long)ret);

    int ok = counter == (long)NTHREADS * NITERS && hand_reply == 43 && (long)ret == 43;
    printf("%s\n", ok ? "OK" : "FAIL");
    return ok ? 0 : 1;
}
