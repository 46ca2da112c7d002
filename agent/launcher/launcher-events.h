#ifndef OUTPOST_LAUNCHER_EVENTS_H
#define OUTPOST_LAUNCHER_EVENTS_H

#include <stdint.h>

/* Queues one frame to the agent: type, run id, payload. A run's exit, a failed start and the hello are sent before the next poll. */
void emit(char type, uint32_t id, const void *payload, uint32_t size);

/* How long poll may wait: until the oldest held event is due, after sending what is due now (-1: nothing held). */
int poll_timeout(void);

#endif
