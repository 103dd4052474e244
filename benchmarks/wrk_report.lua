-- wrk's hooks for benchmarks/serve.py (`--load wrk`): count every response that is not
-- 2xx as an error, stop each wrk thread after its share of the requests (`-- LIMIT`), and
-- print the exact percentiles and error counts as one JSON line.
--
-- wrk itself only stops at its duration: a thread that reached its LIMIT says so on
-- stderr ("wrk-thread-done"), and serve.py interrupts wrk once every thread has, so the
-- duration and requests per second wrk reports are those of the requests sent.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  -- globals: `thread:get` reads them from each thread's own Lua state
  answered = 0
  not_2xx = 0
  limit = tonumber(args[1]) or 0
end

function response(status, headers, body)
  answered = answered + 1
  if status < 200 or status > 299 then
    not_2xx = not_2xx + 1
  end
  if limit > 0 and answered == limit then
    io.stderr:write("wrk-thread-done\n")
    io.stderr:flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("not_2xx")
  end
  local e = summary.errors
  io.write(string.format(
    'wrk-json {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, ' ..
    '"p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, "not_2xx": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, failed,
    e.connect, e.read, e.write, e.status, e.timeout))
end
