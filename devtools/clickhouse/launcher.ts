/**
 * The native launcher: a small C program that loads the engine library the
 * project already installs (libchdb.so, the whole of ClickHouse) and runs its
 * clickhouse-local entry point with listeners. Written under <dir>/bin and
 * compiled once per source + library (the name carries a hash of both), with
 * errors that say what to install when the compiler or the library is missing.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isEnoent, run, tail } from '../../common/processes.js';
import type { Paths } from './options.js';

/**
 * query_stable_v2(argc, argv) is libchdb's exported clickhouse-local main (deprecated in chdb.h in favour
 * of the session API, but that API cannot start listeners: "start_servers_callback is not set").
 *
 * How the server stays up and stops cleanly: the last query the engine runs reads its stdin until EOF,
 * and stdin is a pipe whose write end only this program holds. SIGTERM/SIGINT/SIGHUP are blocked in
 * every thread and taken by sigwait in one thread, which closes the write end: the query ends, the
 * engine shuts down as after any finished --query (listeners closed, tables detached) and main returns
 * 0. Without this, SIGTERM would kill the engine mid-flight, since clickhouse-local installs no handler.
 */
const LAUNCHER_SOURCE = `/* policylens local ClickHouse launcher; written and compiled by devtools/clickhouse/launcher.ts. */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

/* struct local_result_v2 from chdb.h; only error_message is read. */
struct local_result_v2 { char *buf; size_t len; void *vec; double elapsed; uint64_t rows_read; uint64_t bytes_read; char *error_message; };
typedef struct local_result_v2 *(*query_fn)(int, char **);

static sigset_t stop_signals;
static int stop_fd = -1;

static void *wait_for_stop(void *unused) {
  siginfo_t info;
  (void)unused;
  while (sigwaitinfo(&stop_signals, &info) < 0) {}
  fprintf(stderr, "launcher: signal %d from pid %d, shutting down\\n", info.si_signo, (int)info.si_pid);
  close(stop_fd); /* EOF for the engine's last query: it ends and the engine shuts down */
  /* Later ones change nothing (a dying caller may send its parent-death signal once per exiting
     thread); SIGKILL is the way to cut a shutdown short. */
  for (;;) {
    if (sigwaitinfo(&stop_signals, &info) >= 0) fprintf(stderr, "launcher: signal %d again, still shutting down\\n", info.si_signo);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s LIBCHDB CLICKHOUSE-LOCAL-ARGS...\\n", argv[0]); return 2; }
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  /* Before any engine thread exists, so all of them inherit the mask and only sigwait sees these. */
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
  const char *parent = getenv("POLICYLENS_CLICKHOUSE_PARENT");
  if (parent) {
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* a stop request when the caller dies, even by SIGKILL */
    if (getppid() != (pid_t)atol(parent)) return 0; /* it died before prctl */
  }
  int fds[2];
  if (pipe(fds) != 0 || dup2(fds[0], STDIN_FILENO) < 0) { perror("launcher: pipe"); return 5; }
  close(fds[0]);
  stop_fd = fds[1];
  pthread_t waiter;
  if (pthread_create(&waiter, NULL, wait_for_stop, NULL) != 0) { perror("launcher: pthread_create"); return 5; }
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
  if (!lib) { fprintf(stderr, "launcher: dlopen: %s\\n", dlerror()); return 3; }
  query_fn query = (query_fn)dlsym(lib, "query_stable_v2");
  if (!query) { fprintf(stderr, "launcher: dlsym query_stable_v2: %s\\n", dlerror()); return 4; }
  argv[1] = "clickhouse";
  struct local_result_v2 *result = query(argc - 1, argv + 1);
  if (!result) { fprintf(stderr, "launcher: the engine returned no result\\n"); return 1; }
  /* Query errors are printed by the engine itself; this is set for errors before any query ran. */
  if (result->error_message) { fprintf(stderr, "launcher: %s\\n", result->error_message); return 1; }
  return 0;
}
`;

/** The engine library of the installed chdb package for this machine. */
export function defaultLibPath(project: string): string {
  const pkg = `@chdb/lib-linux-${process.arch === 'arm64' ? 'arm64' : 'x64'}-gnu`;
  try {
    // Resolved from the project, so a hoisted or nested node_modules both work.
    return join(dirname(createRequire(join(project, 'package.json')).resolve(`${pkg}/package.json`)), 'libchdb.so');
  } catch {
    return join(project, 'node_modules', pkg, 'libchdb.so');
  }
}

function checkLib(libPath: string): void {
  if (process.platform !== 'linux') {
    throw new Error(`The local ClickHouse server runs libchdb.so through a Linux launcher; this is ${process.platform}.`);
  }
  if (!existsSync(libPath)) {
    throw new Error(
      `The ClickHouse engine library was not found at ${libPath}. It comes with the optional dependency chdb ` +
        '(npm install --include=optional), or pass libPath.',
    );
  }
}

/** CC when set (like make), else cc, else gcc: the first that runs. */
async function findCompiler(): Promise<string> {
  const candidates = [process.env.CC, 'cc', 'gcc'].filter((c): c is string => Boolean(c));
  for (const cc of candidates) {
    try {
      const r = await run(cc, ['--version']);
      if (r.code === 0) return cc;
    } catch (err) {
      if (!isEnoent(err)) throw err;
    }
  }
  throw new Error(
    `No C compiler found (tried ${candidates.join(', ')}): install gcc (Debian/Ubuntu: apt-get install gcc) or set CC. ` +
      'The local ClickHouse server needs one once, to build the small launcher that loads libchdb.so.',
  );
}

/** Path of the launcher for this source and library, compiled when missing. */
export async function ensureLauncher(paths: Paths, libPath: string, log: (m: string) => void): Promise<string> {
  checkLib(libPath);
  const hash = createHash('sha256').update(LAUNCHER_SOURCE).update('\0').update(libPath).digest('hex').slice(0, 12);
  const bin = join(paths.binDir, `launch-${hash}`);
  if (existsSync(bin)) return bin;
  const cc = await findCompiler();
  mkdirSync(paths.binDir, { recursive: true });
  const source = `${bin}.c`;
  writeFileSync(source, LAUNCHER_SOURCE);
  // Compile beside the target and rename, so a half-written binary is never run.
  const tmp = `${bin}.tmp-${process.pid}`;
  log(`Compiling the ClickHouse launcher with ${cc} ...`);
  const r = await run(cc, ['-O2', '-Wall', '-o', tmp, source, '-ldl', '-lpthread']);
  if (r.code !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(
      `Compiling ${source} with ${cc} failed (exit ${r.code}); the C library headers may be missing ` +
        `(Debian/Ubuntu: apt-get install libc6-dev):\n${tail(r.stdout + r.stderr, 20)}`,
    );
  }
  renameSync(tmp, bin);
  return bin;
}
