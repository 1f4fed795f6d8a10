import type { LogSink } from '../../commands/ports.js';

export type { LogSink } from '../../commands/ports.js';

/** One module's log: write while it runs, close when it ends. */
export interface ModuleLog {
  write(chunk: string): void;
  close(): void;
}

/**
 * Keeps the logs of modules running in parallel from interleaving: the first module to start
 * while nothing else is shown streams live; the others buffer and are flushed whole, each in its
 * own group, once they end and no live group is open. The sink redacts as it writes, so a
 * buffered log also loses the secrets learned while it waited.
 */
export class GroupedLog {
  private live: string | undefined;
  private readonly queued: { title: string; text: string }[] = [];

  constructor(private readonly sink: LogSink) {}

  /** Opens a module's log group. */
  open(title: string): ModuleLog {
    if (this.live === undefined) {
      this.live = title;
      this.sink.startGroup(title);
      return {
        write: (chunk) => this.sink.write(chunk),
        close: () => {
          this.sink.endGroup();
          this.live = undefined;
          this.flush();
        },
      };
    }
    let buffer = '';
    return {
      write: (chunk) => {
        buffer += chunk;
      },
      close: () => {
        this.queued.push({ title, text: buffer });
        this.flush();
      },
    };
  }

  private flush(): void {
    if (this.live !== undefined) return;
    for (const { title, text } of this.queued.splice(0)) {
      this.sink.startGroup(title);
      if (text) this.sink.write(text);
      this.sink.endGroup();
    }
  }
}
