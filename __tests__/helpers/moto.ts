import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One recorded request of moto's recorder. */
export interface MotoRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A running local moto server (STS, S3) with its request recorder. */
export interface Moto {
  endpoint: string;
  port: number;
  recordingPath: string;
  /** Wipes all moto state and the recording. */
  reset(): Promise<void>;
  /** Every request moto recorded since the last reset, bodies decoded. */
  requests(): MotoRequest[];
  stop(): Promise<void>;
}

/** Starts `moto_server` on a free loopback port and turns on request recording. */
export async function startMoto(): Promise<Moto> {
  const dir = mkdtempSync(join(tmpdir(), 'sd-moto-'));
  const recordingPath = join(dir, 'moto.jsonl');
  let child: ChildProcess;
  try {
    child = spawn('moto_server', ['-H', '127.0.0.1', '-p', '0'], {
      env: { ...process.env, MOTO_RECORDER_FILEPATH: recordingPath },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (e) {
    throw new Error(`moto_server could not start (is moto installed?): ${String(e)}`);
  }
  let log = '';
  const port = await new Promise<number>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`moto_server did not come up in 15 s: ${log}`)), 15_000);
    child.stderr!.on('data', (d: Buffer) => {
      if (log.length < 20_000) log += d.toString();
      const m = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(t);
        ok(Number(m[1]));
      }
    });
    child.once('error', (e) =>
      fail(new Error(`moto_server could not start (is moto installed?): ${e.message}`)),
    );
    child.once('exit', (c) => fail(new Error(`moto_server exited ${c}: ${log}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const post = async (path: string): Promise<void> => {
    const r = await fetch(`${endpoint}${path}`, { method: 'POST' });
    if (!r.ok) throw new Error(`moto ${path}: ${r.status}`);
  };
  await post('/moto-api/recorder/start-recording');
  return {
    endpoint,
    port,
    recordingPath,
    async reset() {
      await post('/moto-api/reset');
      await post('/moto-api/recorder/reset-recording');
      await post('/moto-api/recorder/start-recording');
    },
    requests() {
      if (!existsSync(recordingPath)) return [];
      return readFileSync(recordingPath, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => {
          const r = JSON.parse(l) as {
            method: string;
            url: string;
            headers: Record<string, string>;
            body: string;
            body_encoded?: boolean;
          };
          const body = r.body_encoded ? Buffer.from(r.body ?? '', 'base64').toString('utf8') : (r.body ?? '');
          return { method: r.method, url: r.url, headers: r.headers, body };
        });
    },
    async stop() {
      if (child.exitCode !== null) return;
      await new Promise<void>((ok) => {
        child.once('exit', () => ok());
        child.kill('SIGTERM');
      });
    },
  };
}
