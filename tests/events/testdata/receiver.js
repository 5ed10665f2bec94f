// A webhook receiver for tests/events: it verifies each request with the
// npm standardwebhooks package (written apart from ceremony/events) under
// every secret given, answers 204 to a valid one and 401 otherwise, and
// prints one JSON line per request to stdout: {ok, id, type, secrets}.
// With a delay (ms), it prints {start: id} when a request arrives and
// answers after the delay, so a test can kill the sender mid-delivery.
// Usage: node receiver.js <port> <whsec_...>[,<whsec_...>] [delayMs]
const http = require("http");
const { Webhook } = require("standardwebhooks");

const port = Number(process.argv[2]);
const secrets = process.argv[3].split(",");
const hooks = secrets.map((s) => new Webhook(s));
const delay = Number(process.argv[4] || 0);

http
  .createServer((req, res) => {
    if (delay > 0) process.stdout.write(JSON.stringify({ start: req.headers["webhook-id"] }) + "\n");
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const verified = [];
      let payload = null;
      hooks.forEach((h, i) => {
        try {
          payload = h.verify(body, req.headers);
          verified.push(i);
        } catch (e) {
          // not signed under this secret
        }
      });
      const ok = verified.length === hooks.length;
      process.stdout.write(
        JSON.stringify({ ok, id: req.headers["webhook-id"], type: payload && payload.type, verified, payload }) + "\n",
      );
      setTimeout(() => {
        res.writeHead(ok ? 204 : 401);
        res.end();
      }, delay);
    });
  })
  .listen(port, "127.0.0.1", () => process.stdout.write(JSON.stringify({ listening: port }) + "\n"));
