/*
 * The launcher's events to the agent (frames: see outpost-launcher.c), held back briefly so that
 * a short run's start, output, end of file and exit reach the agent in one write.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "launcher-events.h"

static void put_all(const void *data, size_t size) {
  const char *p = data;
  while (size > 0) {
    ssize_t n = write(1, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(1); /* the agent is gone */
    p += n;
    size -= (size_t)n;
  }
}

/*
 * Events wait here so that a short run's start, output, end of file and exit reach the agent in
 * one write and wake it once (docs/decisions.md, Performance). A run's exit, a failed start and
 * the hello go out when the loop is about to poll again; other events wait at most LINGER_MS for
 * one of those, so a long run's pid and output are late by that much at most.
 */
#define LINGER_MS 5
static unsigned char *unsent;
static size_t unsent_size, unsent_capacity;
static int unsent_urgent;
static struct timespec unsent_since;

static void flush(void) {
  put_all(unsent, unsent_size);
  unsent_size = 0;
  unsent_urgent = 0;
}

/* How long poll may wait: until the oldest held event is due, after flushing what is due now. */
int poll_timeout(void) {
  if (unsent_size == 0) return -1;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long waited_ms = (now.tv_sec - unsent_since.tv_sec) * 1000 + (now.tv_nsec - unsent_since.tv_nsec) / 1000000;
  if (unsent_urgent || waited_ms >= LINGER_MS) {
    flush();
    return -1;
  }
  return (int)(LINGER_MS - waited_ms);
}

void emit(char type, uint32_t id, const void *payload, uint32_t size) {
  size_t needed = unsent_size + 9 + size;
  if (needed > unsent_capacity) {
    unsent_capacity = needed * 2;
    unsent = realloc(unsent, unsent_capacity);
    if (!unsent) _exit(2);
  }
  if (unsent_size == 0) clock_gettime(CLOCK_MONOTONIC, &unsent_since);
  if (type == 'X' || type == 'F' || type == 'H') unsent_urgent = 1;
  unsigned char *head = unsent + unsent_size;
  head[0] = (unsigned char)type;
  memcpy(head + 1, &id, 4);
  memcpy(head + 5, &size, 4);
  if (size > 0) memcpy(head + 9, payload, size);
  unsent_size = needed;
  if (unsent_size >= 65536) flush();
}
