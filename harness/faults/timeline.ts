/** What happened when, during a disruptive case: attached to the report next to the evidence. */
export class Timeline {
  private readonly started = Date.now();
  readonly entries: { at: string; sinceStartMs: number; what: string }[] = [];

  mark(what: string): void {
    const now = Date.now();
    this.entries.push({ at: new Date(now).toISOString(), sinceStartMs: now - this.started, what });
  }

  text(): string {
    return this.entries
      .map((e) => `+${(e.sinceStartMs / 1000).toFixed(1).padStart(6)}s  ${e.at}  ${e.what}`)
      .join("\n");
  }
}
