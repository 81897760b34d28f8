/**
 * Process plumbing for the real servers tests start: free loopback ports, starting a server in
 * the foreground, waiting until it listens, and stopping it by PID (also when the test process
 * exits early). A server that cannot start throws `ServerStartError` with its output; tests let
 * it fail the run, they never skip (CI=true or not).
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const LOOPBACK = '127.0.0.1';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const INSTALL_SCRIPT = join(REPO_ROOT, 'scripts', 'install-test-servers.sh');

export class ServerStartError extends Error {}

const execFileAsync = promisify(execFile);

/** Runs a command to completion; throws with its output when it fails. */
export async function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new ServerStartError(
      `${command} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim(),
    );
  }
}

function onPath(binary: string): boolean {
  const dirs = (process.env['PATH'] ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin']);
  return dirs.some((d) => d !== '' && existsSync(join(d, binary)));
}

/**
 * Makes sure the Debian packages behind `binaries` are installed, running
 * scripts/install-test-servers.sh when one is missing (it needs root, and is serialised with
 * flock so parallel test files do not collide). Throws when they still are not there.
 */
export function ensureServerPackages(binaries: readonly string[]): void {
  if (binaries.every(onPath)) return;
  const result = spawnSync('bash', [INSTALL_SCRIPT], { encoding: 'utf8', timeout: 15 * 60_000 });
  const missing = binaries.filter((b) => !onPath(b));
  if (missing.length > 0) {
    throw new ServerStartError(
      `test servers are not installed (missing ${missing.join(', ')}), and ${INSTALL_SCRIPT} could not install them ` +
        `(exit ${String(result.status)}):\n${result.stdout ?? ''}${result.stderr ?? ''}\n` +
        'Run `bash scripts/install-test-servers.sh` as root.',
    );
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function portAccepts(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the process wrote so far, for error messages. */
  output(): string;
  /** True once the process has exited. */
  exited(): boolean;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts a long-running server in the foreground; it is killed if this process exits first. */
export function startProcess(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): RunningProcess {
  const child = spawn(command, [...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let done = false;
  const keep = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', () => {
    done = true;
    running.delete(child);
  });
  child.once('error', (err) => {
    done = true;
    out += `\n${String(err)}`;
  });
  if (child.pid === undefined) {
    throw new ServerStartError(`could not start ${command}: ${out}`);
  }
  running.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
  return { child, pid: child.pid, output: () => out, exited: () => done };
}

/** Waits until `port` accepts connections; throws with the server's output if it never does. */
export async function waitForPort(
  proc: RunningProcess,
  port: number,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exited()) {
      throw new ServerStartError(
        `${what} exited before listening on ${LOOPBACK}:${port}:\n${proc.output()}`,
      );
    }
    if (await portAccepts(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new ServerStartError(
    `${what} did not listen on ${LOOPBACK}:${port} within ${timeoutMs} ms:\n${proc.output()}`,
  );
}

/** SIGTERM by PID, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(proc: RunningProcess, graceMs = 5_000): Promise<void> {
  if (proc.exited()) return;
  const gone = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
  signal(proc.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (!proc.exited()) signal(proc.pid, 'SIGKILL');
  }, graceMs);
  await gone;
  clearTimeout(timer);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone between the check and the signal.
  }
}
