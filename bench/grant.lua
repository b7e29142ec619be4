-- wrk script: consent grants through the privacy API (each one a ledger event: one ES256
-- signature and one insert); BASIC is base64(client_id:client_secret) of an admin client.
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BASIC")
request = function()
  n = n + 1
  local body = '{"subject": "bench-' .. n .. '", "consents": [{"consent_id": "bench"}]}'
  return wrk.format(nil, nil, nil, body)
end
