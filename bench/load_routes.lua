-- wrk script for bench/load.py: one route group per wrk process, its requests drawn at random from a file.
--
--   LOAD_PORTS=8001,8002 wrk -t 2 -c 40 -d 60s --timeout 30s --latency -s bench/load_routes.lua \
--       http://127.0.0.1:8001/ -- routes.tsv
--
-- Each line of the file is one request: a path, then optional headers, tab-separated ("Cookie: sessionid=…").
-- Requests are built once in init(): wrk.format per request would cost the generator more than the server.
-- Thread i talks to the i-th port of LOAD_PORTS (round robin), so one process spreads its connections over
-- several web servers. LOAD_MAX_REQUESTS bounds the requests of the whole process (each thread stops at its
-- share). One request in LOAD_REQUESTS_PER_CONNECTION (on average) asks the server to close the connection, and
-- wrk opens a new one: visitors come and go, and gunicorn keeps a kept-alive connection on the worker that accepted
-- it, so connections that lived for the whole run would pin each route to whichever worker they first landed on.
-- done() prints one line "LOAD-RESULT {json}" for load.py: the summary, every status code
-- counted, nginx's X-Proxy-Cache values when it is in front, and the latency distribution (microseconds) as a grid of percentiles, from which load.py merges the
-- routes into the site's percentiles.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  local ports = {}
  for port in string.gmatch(os.getenv("LOAD_PORTS") or "", "%d+") do
    table.insert(ports, port)
  end
  if #ports > 0 then
    local port = ports[(#threads - 1) % #ports + 1]
    thread.addr = wrk.lookup("127.0.0.1", port)[1]
  end
  thread:set("thread_number", #threads)
end

local requests, closing = {}, {}

function init(args)
  local file = assert(io.open(args[1], "r"), "cannot open the routes file " .. tostring(args[1]))
  for line in file:lines() do
    if line ~= "" then
      local fields = {}
      for field in string.gmatch(line, "[^\t]+") do
        table.insert(fields, field)
      end
      local headers = {}
      for i = 2, #fields do
        local name, value = string.match(fields[i], "^([^:]+):%s*(.*)$")
        headers[name] = value
      end
      table.insert(requests, wrk.format("GET", fields[1], headers))
      headers["Connection"] = "close"
      table.insert(closing, wrk.format("GET", fields[1], headers))
    end
  end
  file:close()
  assert(#requests > 0, "no requests in " .. args[1])
  math.randomseed(os.time() * 1000 + thread_number)
  statuses = {}
  proxy_cache = {}
  answered = 0
  per_connection = tonumber(os.getenv("LOAD_REQUESTS_PER_CONNECTION") or "0")
  local threads_started = tonumber(os.getenv("LOAD_THREADS") or "1")
  max_answers = math.max(1, math.floor(tonumber(os.getenv("LOAD_MAX_REQUESTS") or "1e12") / threads_started))
end

function request()
  local i = math.random(#requests)
  if per_connection > 0 and math.random(per_connection) == 1 then
    return closing[i]
  end
  return requests[i]
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  local cached = headers["X-Proxy-Cache"]  -- nginx's answer in front (bench/load.py --front nginx): HIT, MISS, …
  if cached then
    proxy_cache[cached] = (proxy_cache[cached] or 0) + 1
  end
  answered = answered + 1
  if answered >= max_answers then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local function merged(name)
    local counted = {}
    for _, thread in ipairs(threads) do
      for key, n in pairs(thread:get(name) or {}) do
        counted[key] = (counted[key] or 0) + n
      end
    end
    local parts = {}
    for key, n in pairs(counted) do
      table.insert(parts, string.format('"%s":%d', key, n))
    end
    return table.concat(parts, ",")
  end
  -- The latency distribution as percentiles: a grid, not every value, because wrk walks its histogram (one slot
  -- a microsecond) for each. Every 5 % to 90 %, every 1 % to 99 %, then 99.5, 99.9 and the maximum.
  local grid = {}
  for p = 5, 90, 5 do table.insert(grid, p) end
  for p = 91, 99 do table.insert(grid, p) end
  table.insert(grid, 99.5)
  table.insert(grid, 99.9)
  local points = {string.format("[0,%d]", latency.min)}
  for _, p in ipairs(grid) do
    table.insert(points, string.format("[%g,%d]", p, latency:percentile(p)))
  end
  table.insert(points, string.format("[100,%d]", latency.max))
  local errors = summary.errors
  io.write(string.format(
    'LOAD-RESULT {"duration_us":%d,"requests":%d,"bytes":%d,"statuses":{%s},"proxy_cache":{%s},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"percentiles_us":[%s]}\n',
    summary.duration, summary.requests, summary.bytes, merged("statuses"), merged("proxy_cache"),
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    table.concat(points, ",")))
end
