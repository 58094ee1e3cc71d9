-- wrk script for the `echo` scenario: POST /echo with a 1 KB (1024-byte) JSON
-- body that is built once, when the script loads. bench/run.py builds the very
-- same body (echo_body()) for its correctness check.
--
--   wrk -t1 -c64 -d10s --latency -s bench/echo.lua http://127.0.0.1:8101/echo
--   wrk -t1 -c64 -d600s -s bench/echo.lua http://127.0.0.1:8101/echo -- 10000
--
-- The optional argument after `--` stops the thread after that many responses
-- (used by `run.py --memory`; run with -t1 so the count is global). wrk itself
-- then still waits for -d to elapse, so the script prints a line starting with
-- "echo.lua: done" and run.py answers it with SIGINT, on which wrk reports.

local items = {}
for i = 0, 9 do
  items[#items + 1] = string.format('{"n":%d,"v":"value-%d","ok":true}', i, i)
end
local head = '{"id":1,"name":"databridge","tags":["bench","echo","json"],"items":['
  .. table.concat(items, ",") .. '],"pad":"'
local tail = '"}'
local body = head .. string.rep("x", 1024 - #head - #tail) .. tail

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = body

local max_responses = 0
local seen = 0

function init(args)
  max_responses = tonumber(args[1] or "") or 0
  if max_responses > 0 then
    -- Only defined when needed: wrk skips response parsing without it.
    response = function(status, headers, resp_body)
      seen = seen + 1
      if seen == max_responses then
        io.write("echo.lua: done after ", seen, " responses\n")
        io.flush()
        wrk.thread:stop()
      end
    end
  end
end
