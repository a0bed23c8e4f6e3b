-- wrk script for benchmarks/checkoff_throughput.py: POST {} to PATH_FORMAT with each item id of
-- IDS_FILE once (one id per line), the ids dealt round-robin over wrk's threads, so no item is
-- checked twice; AUTHORIZATION, if set, is sent as the Authorization header. When a thread runs
-- out of ids it starts over (each restart counted as "exhausted": an error for the real check-off,
-- where each id must be fresh; harmless for the bare endpoints, which ignore the id).
-- done() prints one JSON line the benchmark reads.

local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local count = tonumber(os.getenv("WRK_THREADS"))
  ids = {}
  local position = 0
  for line in io.lines(os.getenv("IDS_FILE")) do
    if position % count == index then
      table.insert(ids, line)
    end
    position = position + 1
  end
  next_id = 1
  exhausted = 0
  wrk.method = "POST"
  wrk.body = "{}"
  wrk.headers["Content-Type"] = "application/json"
  local authorization = os.getenv("AUTHORIZATION")
  if authorization and authorization ~= "" then
    wrk.headers["Authorization"] = authorization
  end
  path_format = os.getenv("PATH_FORMAT")
end

function request()
  if next_id > #ids then
    next_id = 1
    exhausted = exhausted + 1
  end
  local id = ids[next_id]
  next_id = next_id + 1
  return wrk.format(nil, string.format(path_format, id))
end

function done(summary, latency, requests)
  local exhausted_total = 0
  for _, thread in ipairs(threads) do
    exhausted_total = exhausted_total + thread:get("exhausted")
  end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, "exhausted": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    exhausted_total))
end
