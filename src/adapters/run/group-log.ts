/** Where grouped log text finally goes: the runner's log groups, or a terminal. */
export interface LogSink {
  startGroup(title: string): void;
  endGroup(): void;
  write(text: string): void;
}

/** One module's log: write while it runs, close when it ends. */
export interface ModuleLog {
  write(chunk: string): void;
  close(): void;
}

/**
 * Keeps the logs of modules running in parallel from interleaving: the first module to start
 * while nothing else is shown streams live; the others buffer and are flushed whole, each in its
 * own group, once they end and no live group is open. Known secrets are masked on the way.
 */
export class GroupedLog {
  private live: string | undefined;
  private readonly queued: { title: string; text: string }[] = [];
  private readonly secrets = new Set<string>();

  constructor(
    private readonly sink: LogSink,
    private readonly onSecret?: (value: string) => void,
  ) {}

  /** Masks this value in everything written from now on (values shorter than 4 characters are ignored). */
  addSecret(value: string): void {
    if (value.length < 4 || this.secrets.has(value)) return;
    this.secrets.add(value);
    this.onSecret?.(value);
  }

  /** Replaces every known secret in a text with ***. */
  mask(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('***');
    return out;
  }

  /** Opens a module's log group. */
  open(title: string): ModuleLog {
    if (this.live === undefined) {
      this.live = title;
      this.sink.startGroup(title);
      return {
        write: (chunk) => this.sink.write(this.mask(chunk)),
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
        buffer += this.mask(chunk);
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
