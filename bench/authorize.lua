-- One authorizer decision per request, as nginx's auth_request sends it.
wrk.method = "GET"
wrk.headers["X-Castellan-Gateway"] = "Basic " .. os.getenv("GATEWAY")
wrk.headers["X-Original-Method"] = "GET"
wrk.headers["X-Original-URI"] = "/health/live"
wrk.headers["X-Team"] = "ops"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
