// Entry module of the KDS proxy Worker. It replaces the worker.mjs that
// github.com/syumai/workers generates, which starts a new Go runtime for
// every request (instantiate + runtime and package init: most of a
// request's CPU time). This one starts the Go program once per isolate and
// hands it every request; the Go side serves with ServeNonBlock and never
// exits. If the program has exited anyway (a crash), the next request starts
// a new one. The rest of the glue (wasm_exec.js, runtime.mjs) is syumai's.
import "./wasm_exec.js";
import { createRuntimeContext, loadModule } from "./runtime.mjs";

let running; // Promise of { go, binding, context } for this isolate

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
  let app = await running?.catch(() => undefined);
  if (!app || app.go.exited) {
    running = start(env, ctx);
    app = await running;
  }
  // Variables are the same for every request; ctx is the current one.
  app.context.ctx = ctx;
  return app.binding.handleRequest(req);
}

export default { fetch };
