// Asks GET <url> every 50 ms until killed and prints one line per answer: "<epoch ms at start> <ms>"
// (ms is -1 for a failure or a status other than 200). A process of its own, so the attack suite's
// own work (building and sending hostile traffic) does not delay the answers it times. The first
// request (loading fetch takes this process hundreds of ms) is made before the first line.
const url = process.argv[2];
const ask = async () => {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  await res.arrayBuffer();
  return res.status === 200;
};
await ask().catch(() => false);
for (;;) {
  const at = Date.now();
  const started = performance.now();
  const ok = await ask().catch(() => false);
  process.stdout.write(`${at} ${ok ? (performance.now() - started).toFixed(1) : -1}\n`);
  await new Promise((resolve) => setTimeout(resolve, 50));
}
