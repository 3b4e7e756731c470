#!/usr/bin/env node
// volcert's Helm post-renderer (helm --post-renderer node --post-renderer-args <this file> <rewrites
// JSON>): Helm pipes the release's rendered objects through it before installing them, and it
// applies csi.imageRewrites and IfNotPresent pull policies (helm-render.ts `postRender`). Helm
// starts it, not volcert, which is why this is a process of its own and not a function call.
import { Buffer } from "node:buffer";
import { register } from "tsx/esm/api";

register();
const { postRender } = await import("./helm-render.ts");
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
process.stdout.write(postRender(Buffer.concat(chunks).toString("utf8"), JSON.parse(process.argv[2] ?? "{}")));
