// The request generator and driver of scripts/fuzz (run by it, with BASE, N, SEED, MAX_SECONDS, APP_PID and the tokens
// in the environment). Loopback only: every request goes to BASE.
const { BASE, N, SEED, MAX_SECONDS, APP_PID, FAN, STAFF, OPERATOR } = process.env;
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(BASE)) throw new Error(`BASE must be a loopback address, got ${BASE}`);
const total = +N, deadline = Date.now() + 1000 * +MAX_SECONDS, CONCURRENCY = 4;

// mulberry32: small, seedable, good enough to pick cases.
let state = +SEED >>> 0;
const rnd = () => { state = (state + 0x6d2b79f5) >>> 0; let t = state; t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const pick = a => a[Math.floor(rnd() * a.length)];
const chance = p => rnd() < p;

const doc = await (await fetch(`${BASE}/api/openapi.json`)).json();
const ops = [];
for (const [path, item] of Object.entries(doc.paths ?? {}))
  for (const method of ["get", "post", "put", "patch", "delete"])
    if (item[method]) ops.push({ method: method.toUpperCase(), path, op: item[method],
      params: [...(item.parameters ?? []), ...(item[method].parameters ?? [])] });
if (ops.length === 0) throw new Error("the OpenAPI document lists no routes");

const callers = [["anonymous", null], ["fan", FAN], ["staff", STAFF], ["operator", OPERATOR]];

// Real ids part of the time, so requests get past "not found" into validation and the stores.
const real = { campaignId: ["configure-the-911", "spread-fan-stories"], id: ["configure-the-911", "spread-fan-stories"],
  round: ["final"], roundId: ["final"], workspaceId: ["porsche", "spread"], workspace: ["porsche"], subject: ["olivia", "alice", "fuzz-fan"],
  fanId: ["fuzz-fan"], queue: ["votes", "submissions-process", "winners-notify"] };
const longStr = n => "x".repeat(n);
const badIds = ["..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e", "a%2Fb", "%2F", "%00", "%ED%A0%80", "%FF%FE", "%E2%80%AE" + "gpj.exe",
  encodeURIComponent("日本語"), encodeURIComponent("🎉🎉"), longStr(300), longStr(5000), "-1", "0", "9223372036854775808", "1e309",
  "null", "undefined", "%20", "a%20b", "%23", "%3F", "%5C", "a%09b", "CON", "'%3B--", "%3Cscript%3E", "%25", "~", "A".repeat(1025),
  "configure-the-911%00", "CONFIGURE-THE-911", "final%2F..", "id%7Cx", "%7B%7D"];
const pathValue = name => (real[name] && chance(0.5)) ? pick(real[name]) : chance(0.1) ? pick(real.campaignId) : pick(badIds);

const strings = ["", " ", "\u0000", "a\u0000b", "\ud800", "\udfff", "\u202eevil", "\u200b", "\ufeff", "🎉".repeat(50), "e\u0301",
  "x".repeat(70000 / 8), "\n\r\t", "%s%n", "${jndi:x}", "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd",
  "\\", "/", "#", "?", "\u007f", "\u0001", "日本語", "0", "-1", "true", "null", "NaN", "9999-99-99T99:99:99Z", "2026-02-30",
  "1970-01-01T00:00:00Z", "9999-12-31T23:59:59.9999999+14:00", "0001-01-01T00:00:00Z", "http://127.0.0.1/x", "https://169.254.169.254/",
  "javascript:alert(1)", "zz-ZZ", "Europe/Nowhere", "en", "whsec_", "image/jpeg", "text/html", longStr(2000)];
// JSON texts of values (so 1e309, 2^63 and lone surrogates stay as written on the wire).
const values = [...strings.map(s => JSON.stringify(s).replace("\\ud800", "\\ud800")), '"\\ud800"', '"\\udc00x"', '"a\\u0000b"',
  "1e309", "-1e309", "-1", "0", "-0", "1.5", "9223372036854775808", "-9223372036854775809", "18446744073709551616",
  "2147483648", "-2147483649", "1e10", "3.4e38", "1E-400", "true", "false", "null", "[]", "{}", "[null]", '[""]', "[1,2,3]",
  '{"a":1}', "[" + '"x",'.repeat(5000) + '"x"]'];
const bad = () => pick(values);

function resolve(schema, depth = 0) {
  if (!schema || depth > 8) return {};
  if (schema.$ref) return resolve(doc.components?.schemas?.[schema.$ref.split("/").pop()], depth + 1);
  const alt = schema.oneOf ?? schema.anyOf ?? schema.allOf;
  if (alt) return resolve(alt.find(s => !(s.type === "null")) ?? alt[0], depth + 1);
  return schema;
}
// A JSON text shaped like the schema, then one field (or more) made bad.
function fromSchema(schema, depth = 0) {
  const s = resolve(schema);
  const type = Array.isArray(s.type) ? s.type.find(t => t !== "null") : s.type;
  if (depth > 0 && chance(0.15)) return bad();
  if (s.enum) return JSON.stringify(pick(s.enum));
  if (type === "object" || s.properties) {
    const props = Object.entries(s.properties ?? {});
    const parts = props.filter(() => chance(0.9)).map(([k, v]) => `${JSON.stringify(k)}:${fromSchema(v, depth + 1)}`);
    if (chance(0.1)) parts.push(`"unknownField":${bad()}`);
    if (s.additionalProperties && chance(0.5)) parts.push(`${JSON.stringify(pick(strings))}:${fromSchema(s.additionalProperties, depth + 1)}`);
    return `{${parts.join(",")}}`;
  }
  if (type === "array") {
    const n = pick([0, 1, 2, 3, 200]);
    return `[${Array.from({ length: n }, () => fromSchema(s.items ?? {}, depth + 1)).join(",")}]`;
  }
  if (type === "integer" || type === "number") return pick(["0", "1", "-1", "2147483647", "9223372036854775807", "1e309", "1.5", "100"]);
  if (type === "boolean") return pick(["true", "false"]);
  if (type === "string") {
    if (s.format === "date-time") return JSON.stringify(pick([new Date().toISOString(), new Date(Date.now() + 86400e3).toISOString(), "2026-13-01T00:00:00Z"]));
    return JSON.stringify(pick(strings));
  }
  return bad();
}

const nested = (n, open, close) => open.repeat(n) + close.repeat(n);
function body(op) {
  const schema = op.op.requestBody?.content?.["application/json"]?.schema;
  const r = rnd();
  if (schema && r < 0.45) return ["application/json", fromSchema(schema)];
  if (r < 0.52) return ["application/json", pick(['{"a":', "{", "[", '{"a":1,}', "{'a':1}", '{"a":1}{"b":2}', "\u0000", "nul", "{\"a\":\"\\x\"}",
    '"unterminated', "\ufeff{}", "{}garbage", "[1,2", "\xff\xfe"])];
  if (r < 0.58) return ["application/json", bad()];
  if (r < 0.63) return ["application/json", pick([nested(10000, "[", "]"), nested(10000, '{"a":', "}").replace(/}$/, "1}"), nested(65, "[", "]")])];
  if (r < 0.68) return ["application/json", `{"text":"${"a".repeat(70 * 1024)}"}`];
  if (r < 0.73) return [pick(["text/plain", "application/xml", "multipart/form-data", "application/x-www-form-urlencoded", "image/jpeg",
    "application/json; charset=utf-16", "application/json; charset=ebcdic", "", "*/*", "application/merge-patch+json"]), pick(['{"a":1}', "a=b", "<x/>", ""])];
  if (r < 0.78) return [null, null];
  if (r < 0.83) return ["application/json", `{${Array.from({ length: 2000 }, (_, i) => `"k${i}":${i}`).join(",")}}`];
  return ["application/json", schema ? fromSchema(schema) : bad()];
}

function query(o) {
  const q = [];
  for (const p of o.params.filter(p => p.in === "query"))
    if (chance(0.6)) q.push(`${encodeURIComponent(p.name)}=${pick(["-1", "0", "1e10", "99999999999999999999", "abc", "%00", "%ED%A0%80",
      longStr(3000), "true", "", "2026-13-40", encodeURIComponent("🎉"), "1", "50", "%2F..", "null"])}`);
  if (chance(0.3)) q.push(`pageSize=${pick(["-1", "0", "1e10", "NaN", "2147483648", "x"])}`);
  if (chance(0.3)) q.push(`continuation=${pick(["garbage", "%00%00", "eyJ4Ijoi", encodeURIComponent(Buffer.from('{"pk":"\u0000","rk":1}').toString("base64")),
    encodeURIComponent(Buffer.from("x".repeat(3000)).toString("base64")), "%ED%A0%80", "====", "a%2Fb"])}`);
  if (chance(0.1)) q.push(`${longStr(500)}=1&a=1&a=2&a[]=x`);
  return q.length ? "?" + q.join("&") : "";
}

function headers(o, caller, contentType) {
  const h = {};
  if (caller[1]) h.Authorization = chance(0.05) ? pick(["Bearer garbage", "Bearer ", "Basic YTpi", `Bearer ${caller[1]}x`]) : `Bearer ${caller[1]}`;
  if (contentType) h["Content-Type"] = contentType;
  if (chance(0.35)) h["If-Match"] = pick(['"garbage"', "*", "W/\"1\"", "", "\"", 'W/"datetime\'2026-01-01T00%3A00%3A00Z\'"', longStr(5000),
    '"1", "2"', "null", "-1", '"\u00e9"'.normalize("NFC").replace("\u00e9", "e")]);
  if (chance(0.3)) h["Idempotency-Key"] = pick(["", " ", longStr(300), longStr(5000), "../x", "a/b", "#?", "key\ttab", "ünï", "null", "-1",
    "00000000-0000-0000-0000-000000000000"].map(v => v.replace(/[^\t\x20-\x7e]/g, "?")));
  if (chance(0.05)) h["X-Forwarded-For"] = pick(["garbage", "::::", "1.2.3.4, 5.6.7.8", longStr(3000)]);
  if (chance(0.05)) h["Accept"] = pick(["text/html", "application/xml", "*/*;q=abc"]);
  return h;
}

const sleep = ms => new Promise(r => setTimeout(r, ms));
const alive = () => { try { process.kill(+APP_PID, 0); return true; } catch { return false; } };
async function healthy() {
  for (let i = 0; i < 20; i++) {
    if (!alive()) return false;
    try { if ((await fetch(`${BASE}/api/health`, { signal: AbortSignal.timeout(3000) })).ok) return true; } catch { }
    await sleep(500);
  }
  return false;
}

let requests = 0, status5xx = 0, crashes = 0, next = 0, stop = false;
const covered = new Set(), findings = new Map(), statuses = {};
const start = Date.now();
async function worker() {
  while (!stop && Date.now() < deadline) {
    const i = next++;
    if (i >= total) return;
    const o = ops[i % ops.length];
    const caller = callers[Math.floor(i / ops.length) % callers.length];
    const path = o.path.replace(/\{([^}:]+)(:[^}]*)?\}/g, (_, name) => pathValue(name));
    const [contentType, text] = ["GET", "DELETE"].includes(o.method) && chance(0.8) ? [null, null] : body(o);
    const init = { method: o.method, headers: headers(o, caller, contentType), signal: AbortSignal.timeout(30000) };
    if (text !== null && text !== undefined) init.body = o.method === "GET" ? undefined : text;
    requests++;
    try {
      const r = await fetch(BASE + path + query(o), init);
      const textOut = await r.text();
      covered.add(`${o.method} ${o.path}`);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (r.status >= 500) {
        status5xx++;
        let code = ""; try { code = JSON.parse(textOut).code ?? ""; } catch { code = textOut.slice(0, 60); }
        const key = `${o.method} ${o.path} ${r.status} ${code}`;
        if (!findings.has(key)) {
          findings.set(key, { caller: caller[0], url: (BASE + path).slice(0, 300), body: (text ?? "").slice(0, 300), contentType });
          if (findings.size <= 20) console.error(`5xx: ${key}  (as ${caller[0]}: ${o.method} ${path.slice(0, 200)} body ${(text ?? "").slice(0, 200)})`);
        }
      }
    } catch (e) {
      if (!(await healthy())) { crashes++; stop = true; console.error(`crash: ${o.method} ${path.slice(0, 200)} → ${e.cause?.code ?? e.name}; the service no longer answers`); }
      else if (e.name === "TimeoutError") console.error(`timeout: ${o.method} ${o.path} as ${caller[0]}`);
    }
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
if (!stop && !(await healthy())) crashes++;
const seconds = ((Date.now() - start) / 1000).toFixed(1);
console.error(`fuzz: ${seconds} s, ${ops.length} routes in the document, statuses ${JSON.stringify(statuses)}, ${findings.size} distinct 5xx`);
if (Date.now() >= deadline && requests < total) console.error(`fuzz: stopped at the time limit (${MAX_SECONDS} s)`);
console.log(`requests=${requests} status_5xx=${status5xx} crashes=${crashes} routes=${covered.size}`);
