// Waits until <url> answers 200: `node wait-http.mjs <url> [timeoutSeconds=60] [pid]`.
// Exit 0 = up; 1 = timed out; 2 = process <pid> is gone (it died while starting).
const [url, timeoutArg, pidArg] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutArg ?? 60) * 1000;
const pid = pidArg ? Number(pidArg) : undefined;

const alive = (p) => {
  try { process.kill(p, 0); return true; } catch { return false; }
};

for (;;) {
  try {
    const res = await globalThis.fetch(url, { signal: globalThis.AbortSignal.timeout(2000) });
    if (res.ok) process.exit(0);
  } catch { /* not listening yet */ }
  if (pid !== undefined && !alive(pid)) process.exit(2);
  if (Date.now() > deadline) process.exit(1);
  await new Promise((r) => setTimeout(r, 250));
}
