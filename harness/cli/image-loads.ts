/**
 * Loading images into a cluster's nodes, each once. A lane starts one load of every image its
 * installs need (its drivers' and the VolumeSnapshot API's) as soon as its cluster exists: one
 * `kind load` (one `docker save`, one import per node) carries the layers the images share once,
 * where a load per install carried the runtime base again each time. Each install's own load then
 * waits for that batch instead of loading again. When the batch fails, each install loads its own
 * images, so the failure is reported by, and blamed on, the install whose image it is. A batch
 * nobody waited for (every install needing it failed earlier) is stopped by settle() before the
 * cluster is released: no `kind load` writes into a cluster being deleted or kept.
 */
import { currentSignal, withSignal } from "../core/abort.ts";
import { describeError } from "../core/errors.ts";
import { formatDuration, say } from "../core/progress.ts";

/** Loads what the nodes lack of `images`; returns what it loaded (void: not known). */
export type LoadImages = (images: readonly string[]) => Promise<readonly string[] | void>;

export class ImageLoads {
  /** Image → whether the load that carried it (or is carrying it) succeeded. */
  private readonly loads = new Map<string, Promise<boolean>>();
  private readonly batches: Promise<boolean>[] = [];
  private readonly stop = new AbortController();

  constructor(
    private readonly loadNow: LoadImages,
    /** Whose nodes, for the progress lines ("cluster x"). */
    private readonly where: string,
  ) {}

  /** Starts loading the images not loaded yet, in one go; not awaited (load() waits for it). */
  preload(images: readonly string[]): void {
    const fresh = [...new Set(images)].filter((i) => !this.loads.has(i));
    if (!fresh.length || this.stop.signal.aborted) return;
    const what = `${fresh.length} image(s) for its installs into the nodes of ${this.where} at once`;
    say(`  loading ${what}`);
    const started = Date.now();
    // Stopped by settle() or by whatever stops the run (exec kills the process on either).
    const ambient = currentSignal();
    const signal = ambient ? AbortSignal.any([this.stop.signal, ambient]) : this.stop.signal;
    const batch = withSignal(signal, () => this.loadNow(fresh)).then(
      (loaded) => {
        const took = formatDuration(Date.now() - started);
        if (loaded && !loaded.length)
          say(`  ${fresh.length} image(s) for its installs already in the nodes of ${this.where} (${took})`);
        else say(`  loaded ${what} (${took})`);
        return true;
      },
      (err: unknown) => {
        if (signal.aborted) say(`  stopped loading ${what}`);
        else say(`  loading ${what} failed, each install loads its own: ${describeError(err)}`);
        return false;
      },
    );
    this.batches.push(batch);
    for (const i of fresh) this.loads.set(i, batch);
  }

  /** Makes the images available: waits for the loads carrying them, loads the others (and those whose load failed). */
  async load(images: readonly string[]): Promise<void> {
    const wanted = [...new Set(images)];
    const loaded = await Promise.all(wanted.map((i) => this.loads.get(i) ?? Promise.resolve(false)));
    const left = wanted.filter((_, n) => !loaded[n]);
    if (!left.length) return;
    await this.loadNow(left);
    for (const i of left) this.loads.set(i, Promise.resolve(true));
  }

  /** Stops a batch still running and waits until its process has ended; no batch starts after. */
  async settle(): Promise<void> {
    this.stop.abort();
    await Promise.all(this.batches);
  }
}
