/*
 * The C baseline of the `cbroker` scenario: a least-recently-used broker on libzmq
 * with forked workers, the same topology as the job server (a ROUTER frontend for REQ
 * clients, a ROUTER backend for workers, a FIFO of idle workers), and nothing else: no
 * heartbeats, no authentication, no time-outs, no protocol beyond an empty delimiter.
 *
 *   c-broker FRONTEND BACKEND WORKERS      e.g. c-broker tcp://127.0.0.1:5555 tcp://127.0.0.1:5556 4
 *
 * The workers are forked before any ZeroMQ context exists (a context must not cross a
 * fork). Each one is a REQ socket on the backend that says READY, then answers every
 * request with its payload upper-cased. Once every worker has said READY, the broker
 * prints `listening frontend=... backend=... workers=N` on stdout. SIGTERM or SIGINT
 * stops it: it sends SIGTERM to its workers, waits for them and exits 0.
 *
 * Frames: a client's [client id, "", payload] arrives on the frontend; it leaves on the
 * backend as [worker id, "", client id, "", payload] to the least recently used idle
 * worker. A worker's [worker id, "", client id, "", reply] goes back as
 * [client id, "", reply]; its [worker id, "", "READY"] only puts it in the FIFO. The
 * frames are forwarded as they are (zmq_msg_t), without copying their bodies.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_WORKERS 64
#define MAX_FRAMES 8
#define MAX_ID 256

static volatile sig_atomic_t stopping = 0;

static void on_signal (int sig) { (void)sig; stopping = 1; }

static void die (const char *what)
{
  fprintf(stderr, "c-broker: %s: %s\n", what, zmq_strerror(zmq_errno()));
  exit(1);
}

/* Receives one whole message into frames[]; returns the frame count, or -1 (EINTR, or too many frames). */
static int receive_all (void *socket, zmq_msg_t *frames)
{
  int count = 0;
  int more = 1;
  while (more) {
    if (count == MAX_FRAMES) return -1;
    zmq_msg_init(&frames[count]);
    if (zmq_msg_recv(&frames[count], socket, 0) < 0) {
      zmq_msg_close(&frames[count]);
      for (int i = 0; i < count; i++) zmq_msg_close(&frames[i]);
      return -1;
    }
    more = zmq_msg_more(&frames[count]);
    count++;
  }
  return count;
}

/* Sends `length` bytes as one frame, with more frames to follow when `more`. */
static void send_bytes (void *socket, const void *data, size_t length, int more)
{
  if (zmq_send(socket, data, length, more ? ZMQ_SNDMORE : 0) < 0 && errno != EINTR) die("zmq_send");
}

/* Sends frames[from..count) and releases them (zmq_msg_send takes a frame's body on success). */
static void send_frames (void *socket, zmq_msg_t *frames, int from, int count)
{
  for (int i = from; i < count; i++) {
    if (zmq_msg_send(&frames[i], socket, i + 1 < count ? ZMQ_SNDMORE : 0) < 0 && errno != EINTR) die("zmq_msg_send");
  }
}

/* A worker process: REQ on the backend, READY, then upper-cases every payload it is sent. */
static void worker (const char *backend)
{
  prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the broker */
  void *context = zmq_ctx_new();
  void *socket = zmq_socket(context, ZMQ_REQ);
  int linger = 0;
  zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
  if (zmq_connect(socket, backend) != 0) die("zmq_connect");
  send_bytes(socket, "READY", 5, 0);
  zmq_msg_t frames[MAX_FRAMES];
  while (!stopping) {
    /* A request is [client id, "", payload] (REQ strips the broker's delimiter). */
    int count = receive_all(socket, frames);
    if (count < 0) break;
    if (count != 3) {
      /* A REQ worker must answer before it may receive again: an empty reply keeps the lockstep. */
      for (int i = 0; i < count; i++) zmq_msg_close(&frames[i]);
      send_bytes(socket, "", 0, 0);
      continue;
    }
    char *payload = zmq_msg_data(&frames[2]);
    size_t length = zmq_msg_size(&frames[2]);
    for (size_t i = 0; i < length; i++) payload[i] = (char)toupper((unsigned char)payload[i]);
    send_frames(socket, frames, 0, 3);
  }
  zmq_close(socket);
  zmq_ctx_term(context);
  exit(0);
}

int main (int argc, char **argv)
{
  if (argc != 4 || atoi(argv[3]) < 1 || atoi(argv[3]) > MAX_WORKERS) {
    fprintf(stderr, "usage: c-broker FRONTEND BACKEND WORKERS (1-%d)\n", MAX_WORKERS);
    return 2;
  }
  const char *frontend_endpoint = argv[1];
  const char *backend_endpoint = argv[2];
  int workers = atoi(argv[3]);

  struct sigaction action = { 0 };
  action.sa_handler = on_signal; /* no SA_RESTART: a blocked zmq_poll or recv returns EINTR */
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);

  /* Fork the workers first: no ZeroMQ context exists yet. They connect until the backend is bound. */
  pid_t pids[MAX_WORKERS];
  for (int i = 0; i < workers; i++) {
    pids[i] = fork();
    if (pids[i] < 0) { perror("c-broker: fork"); return 1; }
    if (pids[i] == 0) worker(backend_endpoint);
  }

  void *context = zmq_ctx_new();
  void *frontend = zmq_socket(context, ZMQ_ROUTER);
  void *backend = zmq_socket(context, ZMQ_ROUTER);
  int linger = 0;
  zmq_setsockopt(frontend, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(backend, ZMQ_LINGER, &linger, sizeof linger);
  if (zmq_bind(frontend, frontend_endpoint) != 0) die("zmq_bind frontend");
  if (zmq_bind(backend, backend_endpoint) != 0) die("zmq_bind backend");

  /* The FIFO of idle workers' ids, oldest first: a ring of `workers` slots (each worker is in it at most once). */
  unsigned char idle_id[MAX_WORKERS][MAX_ID];
  size_t idle_size[MAX_WORKERS];
  int idle_head = 0, idle_count = 0, ready = 0;
  zmq_msg_t frames[MAX_FRAMES];

  while (!stopping) {
    zmq_pollitem_t items[] = { { backend, 0, ZMQ_POLLIN, 0 }, { frontend, 0, ZMQ_POLLIN, 0 } };
    /* Poll the frontend only while a worker is idle: clients' requests wait in libzmq meanwhile. */
    if (zmq_poll(items, idle_count > 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      die("zmq_poll");
    }
    if (items[0].revents & ZMQ_POLLIN) {
      int count = receive_all(backend, frames);
      if (count < 3 || zmq_msg_size(&frames[0]) > MAX_ID || idle_count == workers) {
        for (int i = 0; i < (count > 0 ? count : 0); i++) zmq_msg_close(&frames[i]);
        continue;
      }
      /* The worker is idle again: its id goes to the back of the FIFO. */
      int slot = (idle_head + idle_count) % workers;
      idle_size[slot] = zmq_msg_size(&frames[0]);
      memcpy(idle_id[slot], zmq_msg_data(&frames[0]), idle_size[slot]);
      idle_count++;
      if (count == 3) {
        /* [worker id, "", "READY"]: a new worker; print the ready line once all of them are. */
        for (int i = 0; i < count; i++) zmq_msg_close(&frames[i]);
        if (++ready == workers) {
          printf("listening frontend=%s backend=%s workers=%d\n", frontend_endpoint, backend_endpoint, workers);
          fflush(stdout);
        }
      } else {
        /* [worker id, "", client id, "", reply]: drop the worker's envelope, send the rest to the client. */
        zmq_msg_close(&frames[0]);
        zmq_msg_close(&frames[1]);
        send_frames(frontend, frames, 2, count);
      }
    }
    if (idle_count > 0 && (items[1].revents & ZMQ_POLLIN)) {
      int count = receive_all(frontend, frames);
      if (count < 0) continue;
      /* The least recently used idle worker takes [client id, "", payload]. */
      send_bytes(backend, idle_id[idle_head], idle_size[idle_head], 1);
      send_bytes(backend, "", 0, 1);
      idle_head = (idle_head + 1) % workers;
      idle_count--;
      send_frames(backend, frames, 0, count);
    }
  }

  for (int i = 0; i < workers; i++) kill(pids[i], SIGTERM);
  for (int i = 0; i < workers; i++) waitpid(pids[i], NULL, 0);
  zmq_close(frontend);
  zmq_close(backend);
  zmq_ctx_term(context);
  return 0;
}
