/*
 * outpost-launcher: starts the agent's runs with posix_spawn, so the agent does not fork its own
 * large process for each run (docs/decisions.md, Performance). One per agent, long-lived.
 *
 * stdin (from the agent), frames of: u32 length (little endian), then that many bytes:
 *   'S' id\0 cwd\0 executable\0 argc\0 arg\0... envc\0 env\0...   start a run
 *   'D' id\0                                                    drop the run's pipes
 * stdout (to the agent), frames of: u8 type, u32 id, u32 length, payload:
 *   'H' hello (id 0)   'P' started, payload u32 pid   'F' not started, payload u32 errno
 *   'o' / 'e' stdout / stderr bytes   'O' / 'E' stdout / stderr closed
 *   'X' leader exited, payload u8 killed-by-signal, u8 exit code or signal number
 * Each run gets its own process group, stdin from /dev/null, default signal dispositions, an
 * empty signal mask and umask 077. The launcher ignores SIGINT/SIGTERM/SIGHUP/SIGQUIT. When stdin closes (the agent stopped or died), every group
 * still known is killed with SIGKILL and the launcher exits, so no run outlives its agent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher-events.h"

struct run {
  uint32_t id;
  pid_t pid;
  int fd[2]; /* stdout, stderr read ends; -1 once closed */
  int reaped;
};

static struct run *runs;
static size_t run_count, run_capacity;

/* The signals each run resets to their default before exec (see main). */
static sigset_t run_sigdefault;

static void read_all(void *data, size_t size) {
  char *p = data;
  while (size > 0) {
    ssize_t n = read(0, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      /* stdin closed: end every group we started, then leave. */
      for (size_t i = 0; i < run_count; i++) kill(-runs[i].pid, SIGKILL);
      _exit(0);
    }
    p += n;
    size -= (size_t)n;
  }
}

static void forget_if_done(size_t i) {
  if (runs[i].reaped && runs[i].fd[0] < 0 && runs[i].fd[1] < 0) runs[i] = runs[--run_count];
}

static void close_pipe(size_t i, int which) {
  if (runs[i].fd[which] < 0) return;
  close(runs[i].fd[which]);
  runs[i].fd[which] = -1;
  emit(which == 0 ? 'O' : 'E', runs[i].id, NULL, 0);
}

/* Splits a request's NUL-terminated fields in place; returns their count. */
static size_t split_fields(char *body, size_t size, char **fields, size_t max) {
  size_t count = 0;
  for (size_t start = 0; start < size && count < max;) {
    fields[count++] = body + start;
    start += strlen(body + start) + 1;
  }
  return count;
}

static void start_run(char *body, size_t size) {
  size_t max = size + 1;
  char **fields = calloc(max + 2, sizeof *fields);
  if (!fields) _exit(2);
  size_t count = split_fields(body, size, fields, max);
  uint32_t id = count > 0 ? (uint32_t)strtoul(fields[0], NULL, 10) : 0;
  size_t argc = count > 3 ? strtoul(fields[3], NULL, 10) : 0;
  size_t envc = count > 4 + argc ? strtoul(fields[4 + argc], NULL, 10) : 0;
  if (count < 5 || count != 5 + argc + envc) {
    uint32_t error = EINVAL;
    emit('F', id, &error, 4);
    free(fields);
    return;
  }
  /* argv takes the places from the argc field to the envc field: executable, arguments, NULL. */
  char **argv = fields + 3;
  char **envp = fields + 5 + argc;
  char *executable = fields[2];
  argv[0] = executable;
  argv[argc + 1] = NULL;
  fields[count] = NULL;

  int out[2] = {-1, -1}, err[2] = {-1, -1};
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t none;
  sigemptyset(&none);
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigdefault(&attr, &run_sigdefault);
  posix_spawnattr_setsigmask(&attr, &none);
  int error = 0;
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) error = errno;
  pid_t pid = 0;
  if (!error) {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawn_file_actions_addchdir_np(&actions, fields[1]);
    error = posix_spawn(&pid, executable, &actions, &attr, argv, envp);
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (out[1] >= 0) close(out[1]);
  if (err[1] >= 0) close(err[1]);
  free(fields);
  if (error) {
    if (out[0] >= 0) close(out[0]);
    if (err[0] >= 0) close(err[0]);
    uint32_t code = (uint32_t)error;
    emit('F', id, &code, 4);
    return;
  }
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  fcntl(err[0], F_SETFL, O_NONBLOCK);
  if (run_count == run_capacity) {
    run_capacity = run_capacity ? run_capacity * 2 : 16;
    runs = realloc(runs, run_capacity * sizeof *runs);
    if (!runs) _exit(2);
  }
  runs[run_count++] = (struct run){.id = id, .pid = pid, .fd = {out[0], err[0]}, .reaped = 0};
  uint32_t started = (uint32_t)pid;
  emit('P', id, &started, 4);
}

static void read_request(void) {
  uint32_t size;
  read_all(&size, 4);
  char *body = malloc((size_t)size + 1);
  if (!body) _exit(2);
  read_all(body, size);
  body[size] = '\0';
  if (size > 0 && body[0] == 'S') {
    start_run(body + 1, size - 1);
  } else if (size > 0 && body[0] == 'D') {
    uint32_t id = (uint32_t)strtoul(body + 1, NULL, 10);
    for (size_t i = 0; i < run_count; i++) {
      if (runs[i].id != id) continue;
      close_pipe(i, 0);
      close_pipe(i, 1);
      forget_if_done(i);
      break;
    }
  }
  free(body);
}

static void reap(int sfd) {
  struct signalfd_siginfo info;
  /* SIGCHLD does not queue: one read takes the one pending, and the loop below finds every exit. */
  if (read(sfd, &info, sizeof info) <= 0) return;
  int status;
  pid_t pid;
  /* Every child of this process is a run, so waiting for any of them steals nothing. */
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (size_t i = 0; i < run_count; i++) {
      if (runs[i].pid != pid) continue;
      unsigned char how[2] = {WIFSIGNALED(status) ? 1 : 0, (unsigned char)(WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status))};
      /* Whatever is left of the run's group dies with its leader, before the agent hears of the exit. */
      kill(-pid, SIGKILL);
      emit('X', runs[i].id, how, 2);
      runs[i].reaped = 1;
      forget_if_done(i);
      break;
    }
  }
}

/* Reads until the pipe is empty or closed, so that a run's last output, its end of file and its exit go out together. */
static void drain(size_t i, int which) {
  static char buffer[65536];
  for (;;) {
    ssize_t n = read(runs[i].fd[which], buffer, sizeof buffer);
    if (n > 0) {
      emit(which == 0 ? 'o' : 'e', runs[i].id, buffer, (uint32_t)n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    close_pipe(i, which);
    return;
  }
}

/*
 * glibc before 2.38 visits every signal in the spawned child whatever the set: one sigaction for
 * each signal in it, a query and a reset for each outside it, so the full set costs least there.
 * From 2.38 on (clone3 with CLONE_CLEAR_SIGHAND) it touches the signals in the set alone.
 */
static int spawn_visits_every_signal(void) {
#ifdef __GLIBC__
  unsigned major = 0, minor = 0;
  sscanf(gnu_get_libc_version(), "%u.%u", &major, &minor);
  return major < 2 || (major == 2 && minor < 38);
#else
  return 0;
#endif
}

int main(void) {
  /* A Ctrl-C or a service manager's SIGTERM is for the agent, whose stop lets runs finish; the
     launcher ends when the agent closes its stdin. */
  sigset_t ignored;
  sigemptyset(&ignored);
  sigaddset(&ignored, SIGPIPE);
  sigaddset(&ignored, SIGINT);
  sigaddset(&ignored, SIGTERM);
  sigaddset(&ignored, SIGHUP);
  sigaddset(&ignored, SIGQUIT);
  /* Handled signals are reset by exec and ignored ones are not: with every other signal at its
     default once here, a run needs only the ignored ones reset (docs/decisions.md, Performance). */
  for (int sig = 1; sig < NSIG; sig++) signal(sig, sigismember(&ignored, sig) ? SIG_IGN : SIG_DFL);
  /* Filled by hand: sigfillset leaves out glibc's two internal signals (32, 33), which its
     posix_spawn then starts the program with ignored. sigdelset leaves them in as well. */
  memset(&run_sigdefault, 0xff, sizeof run_sigdefault);
  if (!spawn_visits_every_signal())
    for (int sig = 1; sig < NSIG; sig++)
      if (!sigismember(&ignored, sig)) sigdelset(&run_sigdefault, sig);
  umask(077);
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  sigprocmask(SIG_BLOCK, &child, NULL);
  int sfd = signalfd(-1, &child, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) return 2;
  fcntl(0, F_SETFD, FD_CLOEXEC);
  fcntl(1, F_SETFD, FD_CLOEXEC);
  emit('H', 0, NULL, 0);
  struct pollfd *polled = NULL;
  size_t polled_capacity = 0;
  for (;;) {
    size_t wanted = 2 + 2 * run_count;
    if (wanted > polled_capacity) {
      polled_capacity = wanted * 2;
      polled = realloc(polled, polled_capacity * sizeof *polled);
      if (!polled) return 2;
    }
    polled[0] = (struct pollfd){.fd = 0, .events = POLLIN};
    polled[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
    for (size_t i = 0; i < run_count; i++) {
      polled[2 + 2 * i] = (struct pollfd){.fd = runs[i].fd[0], .events = POLLIN};
      polled[3 + 2 * i] = (struct pollfd){.fd = runs[i].fd[1], .events = POLLIN};
    }
    size_t watched = run_count;
    if (poll(polled, wanted, poll_timeout()) < 0) {
      if (errno == EINTR) continue;
      return 2;
    }
    /* Output first, so that a run's bytes reach the agent before its exit does. */
    uint32_t ids[watched ? watched : 1];
    for (size_t i = 0; i < watched; i++) ids[i] = runs[i].id;
    for (size_t k = 0; k < watched; k++) {
      for (int which = 0; which < 2; which++) {
        if (!(polled[2 + 2 * k + which].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        for (size_t i = 0; i < run_count; i++) {
          if (runs[i].id == ids[k] && runs[i].fd[which] >= 0) {
            drain(i, which);
            forget_if_done(i);
            break;
          }
        }
      }
    }
    if (polled[1].revents & POLLIN) reap(sfd);
    if (polled[0].revents & (POLLIN | POLLHUP | POLLERR)) read_request();
  }
}
