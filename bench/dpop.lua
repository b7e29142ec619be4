-- wrk script: DPoP-bound client_credentials. Each thread sends the proofs of its own file
-- ($PROOFS.<thread>), each once, in order; BASIC is base64(client_id:client_secret).
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  proofs = {}
  for line in io.lines(os.getenv("PROOFS") .. "." .. id) do
    proofs[#proofs + 1] = line
  end
  n = 0
end

function request()
  n = n + 1
  -- Past the last proof they repeat, and the server refuses the replays (counted as non-2xx).
  local proof = proofs[((n - 1) % #proofs) + 1]
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Basic " .. os.getenv("BASIC"),
    ["DPoP"] = proof,
  }, "grant_type=client_credentials")
end
