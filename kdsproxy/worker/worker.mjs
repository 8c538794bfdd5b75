// Entry module of the KDS proxy Worker. It replaces the worker.mjs that
// github.com/syumai/workers generates, which starts a new Go program for
// every request (instantiate, runtime and package init: most of a request's
// CPU time). This one keeps started Go programs and reuses them.
//
// One program serves one request at a time. workerd ties every I/O to the
// request during which it was started, and a Go program runs all its
// goroutines whenever any callback enters it: two requests sharing one
// program start each other's fetches and cache reads, and workerd cancels
// the one left waiting ("the Worker's code had hung"). So a request takes an
// idle program (or starts one), reads the whole answer (KDS documents are a
// few KB) while it owns it, then gives it back. Go serves with
// ServeNonBlock and never exits; a program that exited anyway is dropped.
// wasm_exec.js and runtime.mjs are syumai's.
import "./wasm_exec.js";
import { createRuntimeContext, loadModule } from "./runtime.mjs";

// Idle programs kept for the next requests; more than this many concurrent
// requests start programs that are dropped afterwards (each holds its own
// wasm memory, and an isolate has 128 MB).
const maxIdle = 4;
const idle = [];

async function start(env, ctx) {
  const mod = await loadModule();
  const go = new Go();
  const binding = {};
  const context = createRuntimeContext({ env, ctx, binding });
  let ready;
  const readyPromise = new Promise((resolve) => { ready = resolve; });
  const instance = new WebAssembly.Instance(mod, {
    ...go.importObject,
    workers: { ready: () => ready() },
  });
  go.run(instance, context);
  await readyPromise;
  return { go, binding, context };
}

async function fetch(req, env, ctx) {
  let app;
  while ((app = idle.pop()) && app.go.exited);
  app ??= await start(env, ctx);
  app.context.ctx = ctx; // variables are the same for every request
  try {
    const res = await app.binding.handleRequest(req);
    const body = res.body === null ? null : await res.arrayBuffer();
    return new Response(body, res);
  } finally {
    if (!app.go.exited && idle.length < maxIdle) idle.push(app);
  }
}

export default { fetch };
