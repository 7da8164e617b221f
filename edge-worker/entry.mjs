// The worker's entry module. The Workers runtime calls `fetch` on the default export; the Rust handler is
// wasm-bindgen's `fetch` export. A trap in the wasm code (which the handler is written never to cause) must
// still reach the buyer's checkout as the JSON error body with CORS headers, so that the extension can fail
// open instead of seeing an opaque network error.
import { fetch as handle } from "./index.js";

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "x-correlation-id, retry-after",
};

export default {
  async fetch(request, env, ctx) {
    try {
      return await handle(request, env, ctx);
    } catch (error) {
      console.error("lastmile-edge: request failed", String(error));
      const body = { error: { code: "internal", message: "the validator failed on this request", field: null } };
      return new Response(JSON.stringify(body), {
        status: 500,
        headers: { "content-type": "application/json", ...CORS },
      });
    }
  },
};
