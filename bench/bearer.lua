-- A caller's request through the gateway.
wrk.method = "GET"
wrk.headers["X-Team"] = "ops"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
