// A local stand-in for Cloudflare's rate limiting binding, for tests in bare workerd (which has none): the
// same `limit({ key })` → `{ success }` API, a fixed window per key. The class name is the one the `worker`
// crate checks the binding against.
class Ratelimit {
  constructor(limit, periodMs) {
    this.limit_ = limit;
    this.periodMs = periodMs;
    this.windows = new Map();
  }

  async limit({ key }) {
    const now = Date.now();
    const window = this.windows.get(key);
    if (!window || now - window.start >= this.periodMs) {
      this.windows.set(key, { start: now, count: 1 });
      return { success: true };
    }
    window.count += 1;
    return { success: window.count <= this.limit_ };
  }
}

export default function makeBinding(env) {
  return new Ratelimit(Number(env.limit), Number(env.period) * 1000);
}
