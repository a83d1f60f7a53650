-- wrk script for bench/ingest/run: POSTs one fixed GitHub push body with a valid
-- X-Hub-Signature-256 (computed once by the caller: the body never changes) and a unique
-- X-GitHub-Delivery per request (run nonce, wrk thread number, per-thread counter), so a
-- receiver that deduplicates deliveries stores every request.
--
-- Environment (set by bench/ingest/run):
--   BENCH_BODY   path of the payload file
--   BENCH_SIG    "sha256=<hex>" of the body under the shared secret
--   BENCH_PATH   request target (/webhooks/github, /hooks/<id>, /)
--   BENCH_NONCE  prefix that keeps ids unique across runs
--
-- done() prints one line "BENCH_RESULT {json}" with the request count, duration, per-status
-- counts and latency percentiles (microseconds), which the run script parses.

local body_path = os.getenv("BENCH_BODY")
local signature = os.getenv("BENCH_SIG")
local target = os.getenv("BENCH_PATH") or "/"
local nonce = os.getenv("BENCH_NONCE") or "bench"

local file = assert(io.open(body_path, "rb"))
local body = file:read("*a")
file:close()

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_no", thread_count)
  table.insert(threads, thread)
end

local counter = 0
local headers = {
  ["Content-Type"] = "application/json",
  ["User-Agent"] = "GitHub-Hookshot/bench",
  ["X-GitHub-Event"] = "push",
  ["X-Hub-Signature-256"] = signature,
}

function init(args)
  statuses = {}
end

function request()
  counter = counter + 1
  headers["X-GitHub-Delivery"] = string.format("%s-%d-%d", nonce, thread_no, counter)
  return wrk.format("POST", target, headers, body)
end

function response(status, resp_headers, resp_body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, n in pairs(s or {}) do
      merged[code] = (merged[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(merged) do
    table.insert(parts, string.format('"%s": %d', code, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"statuses": {%s}, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(parts, ", "),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
