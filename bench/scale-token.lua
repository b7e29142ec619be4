-- wrk script: client_credentials over a working set of clients. WORKSET names a file of lines
-- "<token endpoint path> <base64 of client_id:client_secret>"; each request picks one at random.
local paths, basics = {}, {}

function init(args)
  for line in io.lines(os.getenv("WORKSET")) do
    local path, basic = line:match("^(%S+) (%S+)$")
    paths[#paths + 1] = path
    basics[#basics + 1] = "Basic " .. basic
  end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end

function request()
  local i = math.random(#paths)
  return wrk.format("POST", paths[i], {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = basics[i],
  }, "grant_type=client_credentials")
end
