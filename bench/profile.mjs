// `--profile=SCENARIO`: a V8 CPU profile of the Worker isolate and of the local D1 isolate while
// the scenario runs once more (after its timed run, so the figures in the table are not
// disturbed), summarised by function and by source module through the bundle's source map.
// The profiler itself slows the isolates down; read the shares, not the absolute times.
import { readFileSync, writeFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";

function connect(url) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let nextId = 1;
    const pending = new Map();
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data));
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.error) waiter.reject(new Error(`${url}: ${message.error.message}`));
      else waiter.resolve(message.result);
    });
    socket.addEventListener("error", () => reject(new Error(`cannot connect to the inspector at ${url}`)));
    socket.addEventListener("open", () =>
      resolve({
        send(method, params = {}) {
          const id = nextId++;
          socket.send(JSON.stringify({ id, method, params }));
          return new Promise((res, rej) => pending.set(id, { resolve: res, reject: rej }));
        },
        close: () => socket.close(),
      }),
    );
  });
}

/** Starts sampling every isolate whose inspector id `pick` accepts; `stop()` returns the profiles. */
export async function startProfiling(inspectorUrl, pick) {
  const base = inspectorUrl.href.replace(/^ws/, "http");
  const targets = (await (await fetch(new URL("json/list", base))).json()).filter((target) => pick(target.id));
  const sessions = [];
  for (const target of targets) {
    const session = await connect(target.webSocketDebuggerUrl);
    await session.send("Profiler.enable");
    await session.send("Profiler.setSamplingInterval", { interval: 200 });
    await session.send("Profiler.start");
    sessions.push({ id: target.id, session });
  }
  return {
    async stop() {
      const profiles = [];
      for (const { id, session } of sessions) {
        const { profile } = await session.send("Profiler.stop");
        session.close();
        profiles.push({ id, profile });
      }
      return profiles;
    },
  };
}

const SPECIAL = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

/**
 * Self time by function and by source module, counting only frames that belong to a script
 * (the bundle, mapped back to src/ and node_modules/ through its source map, or workerd's own
 * JavaScript such as `cloudflare-internal:d1-api`). Frames without a script (native builtins) are
 * left out: all isolates share one thread, so a profile's native samples can include time spent
 * in other isolates.
 */
export function summarise(profile, { bundleFile, sourceMapPath, root } = {}) {
  const boundaries = bundleFile && sourceMapPath ? moduleBoundaries(join(dirname(sourceMapPath), bundleFile)) : [];
  let map = null;
  if (sourceMapPath) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(sourceMapPath, "utf8")));
    } catch {
      map = null;
    }
  }
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  profile.samples.forEach((nodeId, i) => {
    selfUs.set(nodeId, (selfUs.get(nodeId) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  let scriptUs = 0;
  let nativeUs = 0;
  const special = {};
  const byFunction = new Map();
  const byModule = new Map();
  for (const [nodeId, us] of selfUs) {
    const frame = nodes.get(nodeId).callFrame;
    const name = frame.functionName || "(anonymous)";
    if (SPECIAL.has(name)) {
      special[name] = (special[name] ?? 0) + us;
      continue;
    }
    if (!frame.url) {
      nativeUs += us;
      continue;
    }
    scriptUs += us;
    let module = frame.url;
    let where = `${frame.url}:${frame.lineNumber + 1}`;
    if (bundleFile && frame.url.endsWith(bundleFile)) {
      // The module from esbuild's `// path` comment above the frame's line; the function's
      // original file and line from the source map.
      const boundary = lastAtOrBefore(boundaries, frame.lineNumber);
      if (boundary) module = moduleName(boundary.path);
      const entry = map?.findEntry(frame.lineNumber, frame.columnNumber);
      if (entry?.originalSource) {
        const source = relative(root, resolve(dirname(sourceMapPath), entry.originalSource.replace(/^file:\/\//, "")));
        where = `${source.split(sep).join("/")}:${entry.originalLine + 1}`;
      } else if (boundary) where = `${boundary.path}`;
    }
    const key = `${name} (${where})`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byModule.set(module, (byModule.get(module) ?? 0) + us);
  }
  const top = (entries, n) =>
    [...entries]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([what, us]) => ({
        what,
        ms: Math.round(us / 100) / 10,
        shareOfScript: scriptUs ? Math.round((us / scriptUs) * 1000) / 1000 : 0,
      }));
  return {
    scriptMs: scriptUs / 1000,
    nativeOrOtherIsolateMs: nativeUs / 1000,
    idleMs: (special["(idle)"] ?? 0) / 1000,
    programMs: (special["(program)"] ?? 0) / 1000,
    gcMs: (special["(garbage collector)"] ?? 0) / 1000,
    topFunctions: top(byFunction, 15),
    topModules: top(byModule, 10),
  };
}

/** esbuild marks where each input file starts in a bundle with a `// path/to/file` line. */
function moduleBoundaries(file) {
  try {
    const lines = readFileSync(file, "utf8").split("\n");
    const out = [];
    lines.forEach((line, index) => {
      const match = /^\/\/ ((?:\.\.\/)*[\w@.\-/]+\.(?:m?[jt]sx?|cjs|mts|json))$/.exec(line);
      if (match) out.push({ line: index, path: match[1].replace(/^(\.\.\/)+/, "") });
    });
    return out;
  } catch {
    return [];
  }
}

function lastAtOrBefore(boundaries, line) {
  let lo = 0;
  let hi = boundaries.length - 1;
  let found = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (boundaries[mid].line <= line) {
      found = boundaries[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** `node_modules/@scope/pkg/…` → `@scope/pkg`; `src/a/b.ts` → `src/a`. */
function moduleName(path) {
  const parts = path.split("/");
  const nm = parts.lastIndexOf("node_modules");
  if (nm >= 0) return parts.slice(nm + 1, nm + (parts[nm + 1]?.startsWith("@") ? 3 : 2)).join("/");
  return parts.slice(0, Math.min(2, parts.length - 1) || 1).join("/");
}

export function saveProfile(dir, name, profile) {
  const file = join(dir, `${name}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  return file;
}
