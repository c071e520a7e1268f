-- wrk script: replay "ACCEPT PATH" lines from the file given after --, each thread
-- starting at its own offset, and print the figures as one JSON line at the end.
local paths = {}
local next_index = 1

function init(args)
  for line in io.lines(args[1]) do
    local accept, path = line:match("^(%S+) (.*)$")
    paths[#paths + 1] = {accept, path}
  end
  next_index = (tonumber(args[2] or "0") % #paths) + 1
end

function request()
  local item = paths[next_index]
  next_index = next_index % #paths + 1
  return wrk.format("GET", item[2], {Accept = item[1]})
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
