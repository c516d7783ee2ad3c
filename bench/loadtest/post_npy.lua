-- wrk script: POSTs one .npy body (read once per wrk thread) and counts the responses by
-- status; `done` prints the totals and every status other than 200.
--
--   wrk -t 8 -c 8 -d 60s --latency -s post_npy.lua \
--       'http://127.0.0.1:PORT/mask?model=fast&format=png' -- /path/to/body.npy
--
-- The body path is the first argument after `--` (or $BODY). wrk.init formats the request
-- once after `init` returns, so every request reuses the same bytes (a static request).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local path = args[1] or os.getenv("BODY")
   if not path or path == "" then
      error("post_npy.lua: no body file: pass it after `--` or set BODY")
   end
   local f, err = io.open(path, "rb")
   if not f then
      error("post_npy.lua: cannot open " .. path .. ": " .. tostring(err))
   end
   local body = f:read("*a")
   f:close()
   if #body == 0 then
      error("post_npy.lua: " .. path .. " is empty")
   end
   wrk.method = "POST"
   wrk.body = body
   wrk.headers["Content-Type"] = "application/x-npy"
   responses = 0
   non200 = 0
   statuses = {}
end

function response(status, headers, body)
   responses = responses + 1
   if status ~= 200 then
      non200 = non200 + 1
      local key = tostring(status)
      statuses[key] = (statuses[key] or 0) + 1
   end
end

function done(summary, latency, requests)
   local total, bad, by_status = 0, 0, {}
   for _, t in ipairs(threads) do
      total = total + (t:get("responses") or 0)
      bad = bad + (t:get("non200") or 0)
      local s = t:get("statuses")
      if type(s) == "table" then
         for k, v in pairs(s) do
            by_status[k] = (by_status[k] or 0) + v
         end
      end
   end
   io.write(string.format("lua: responses %d, non-200 %d\n", total, bad))
   for k, v in pairs(by_status) do
      io.write(string.format("lua: status %s: %d\n", k, v))
   end
   local e = summary.errors
   io.write(string.format("lua: socket errors connect %d, read %d, write %d, timeout %d; status errors %d\n",
      e.connect, e.read, e.write, e.timeout, e.status))
end
