-- wrk script for `make loadtest`: cycles through every public page (one path
-- a line in $LOADTEST_PATHS), counts responses outside 2xx/3xx per thread,
-- and writes a summary that .ci/loadtest checks.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(os.getenv("LOADTEST_PATHS")) do
    paths[#paths + 1] = line
  end
  math.randomseed(os.time() + #threads)
  counter = math.random(#paths)
  bad = 0
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

function response(status, headers, body)
  if status < 200 or status >= 400 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local out = io.open(os.getenv("LOADTEST_RESULT"), "w")
  out:write(string.format(
    "requests=%d socket_errors=%d bad_status=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f seconds=%.1f\n",
    summary.requests, socket_errors, bad_total,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.duration / 1e6))
  out:close()
end
