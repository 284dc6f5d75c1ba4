-- The traffic mix of bench/load.py for wrk (Debian's package: apt-get install wrk).
--
--   wrk -t8 -c8 -d13s --timeout 30s -s bench/load.lua http://127.0.0.1:PORT \
--       -- OUT SECONDS ADD_PATH ORDER_PATH SESSION_ID CONNECTION
--
-- Each thread has ONE connection (-t equal to -c), so its request() and response()
-- calls alternate and a response is matched to its request, timed and counted by kind.
-- Per 20 requests: 10 to ADD_PATH (add() without dimensions), 9 to ORDER_PATH?plan=
-- (add() with a dimension, plans free/pro/team in turn), 1 staff poll of a monitor's
-- JSON (user_count and orders in turn) with the session cookie SESSION_ID. Every request
-- carries "Connection: CONNECTION" (close, or keep-alive). After SECONDS
-- every thread drains: it requests /load/plain/ (adds nothing, and the request middleware
-- skips it) until wrk's -d ends, so the requests wrk abandons at its end add nothing
-- either, and the counted 200s are exactly the requests that added.
-- done() writes OUT, lines of tab-separated fields:
--   ok KIND N | error KIND N (answered, not 200) | lost KIND N (no answer: socket error)
--   ms KIND LATENCY (each 200 of the mix) | seconds KIND_MIX SECONDS (per thread)

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } load_timespec;
int clock_gettime(int clock_id, load_timespec *tp);
]]
local timespec = ffi.new("load_timespec")

local function now()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

local threads = {}
KINDS = { "add", "order", "poll" }

function setup(thread)
  table.insert(threads, thread)
  thread:set("offset", #threads)
end

function init(args)
  out = args[1]
  local seconds = tonumber(args[2])
  local add_path, order_path, session = args[3], args[4], args[5]
  local connection = args[6]
  local function headers()
    return { ["Connection"] = connection }
  end
  local staff = headers()
  staff["Cookie"] = "sessionid=" .. session
  local plans = { "free", "pro", "team" }
  local polls = { "/monitoring/user_count/?format=json", "/monitoring/orders/?format=json" }
  schedule = {}
  for i = 1, 20 do
    if i == 20 then
      local poll = polls[(offset % 2) + 1]
      table.insert(schedule, { kind = "poll", request = wrk.format("GET", poll, staff) })
    elseif i % 2 == 1 then
      table.insert(schedule, { kind = "add", request = wrk.format("GET", add_path, headers()) })
    else
      local plan = plans[(i / 2 - 1) % 3 + 1]
      local path = order_path .. "?plan=" .. plan
      table.insert(schedule, { kind = "order", request = wrk.format("GET", path, headers()) })
    end
  end
  drain = wrk.format("GET", "/load/plain/", headers())
  position = offset * 7 -- the threads start at different places of the mix
  -- Flat globals per kind (ok_add, ms_add, ...): wrk's thread:get() copies numbers and
  -- flat arrays, but crashes on nested tables.
  for _, kind in ipairs(KINDS) do
    _G["ok_" .. kind], _G["error_" .. kind], _G["lost_" .. kind], _G["ms_" .. kind] = 0, 0, 0, {}
  end
  started = now()
  deadline = started + seconds
  mixed = seconds
  pending, sent_at = nil, 0
end

function request()
  if offset == 1 and not verified then
    -- wrk calls the first thread's request() once before the run, to check what it
    -- returns (script_verify_request): that request is never sent.
    verified = true
    return drain
  end
  if pending ~= nil and pending ~= "drain" then
    local name = "lost_" .. pending -- the previous request got no answer
    _G[name] = _G[name] + 1
  end
  sent_at = now()
  if sent_at >= deadline then
    pending = "drain"
    return drain
  end
  position = position + 1
  local entry = schedule[position % #schedule + 1]
  pending = entry.kind
  return entry.request
end

function response(status, headers, body)
  local kind = pending
  pending = nil
  if kind == nil or kind == "drain" then
    return
  end
  if status == 200 then
    _G["ok_" .. kind] = _G["ok_" .. kind] + 1
    local list = _G["ms_" .. kind]
    list[#list + 1] = (now() - sent_at) * 1000
  else
    _G["error_" .. kind] = _G["error_" .. kind] + 1
  end
end

function done(summary, latency, requests)
  local file = assert(io.open(threads[1]:get("out"), "w"))
  for _, thread in ipairs(threads) do
    for _, kind in ipairs(KINDS) do
      for _, name in ipairs({ "ok", "error", "lost" }) do
        file:write(name, "\t", kind, "\t", thread:get(name .. "_" .. kind), "\n")
      end
      for _, value in ipairs(thread:get("ms_" .. kind)) do
        file:write("ms\t", kind, "\t", string.format("%.3f", value), "\n")
      end
    end
    file:write("seconds\tmix\t", thread:get("mixed"), "\n")
  end
  local e = summary.errors
  file:write("wrk\tsocket_errors\t", e.connect + e.read + e.write + e.timeout, "\n")
  file:close()
end
