"""The first token request after a write, which no cache can answer from before the write:
  a) rename a client through the admin API, then its token request (the client is read again);
  b) register a client (generated secret), then its first token request.
Prints "median_a worst_a median_b worst_b" in milliseconds over ROUNDS rounds each; CLIENT "-"
skips a) (printing "- -" for it).
Usage: first_token.py BASE TENANT SERVER CLIENT CLIENT_SECRET ADMIN_SECRET"""
import base64, http.client, json, statistics, sys, time, urllib.parse

base, tenant, server, client, client_secret, admin_secret = sys.argv[1:7]
rounds = 40
u = urllib.parse.urlparse(base)
admin = http.client.HTTPConnection(u.hostname, u.port)
tokens = http.client.HTTPConnection(u.hostname, u.port)
basic = lambda i, s: "Basic " + base64.b64encode(f"{i}:{s}".encode()).decode()
admin_auth = basic("bootstrap", admin_secret)


def call(conn, method, path, body, headers, expect):
    conn.request(method, path, body, headers)
    resp = conn.getresponse()
    data = resp.read()
    assert resp.status == expect, (method, path, resp.status, data)
    return data


def timed_token(cid, secret):
    start = time.perf_counter()
    call(tokens, "POST", f"/{tenant}/{server}/oauth2/token", "grant_type=client_credentials",
         {"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic(cid, secret)}, 200)
    return (time.perf_counter() - start) * 1000


renamed, registered = [], []
for r in range(rounds):
    if client != "-":
        call(admin, "PUT", f"/api/admin/{tenant}/clients/{client}", json.dumps({"client_name": f"renamed {r}"}),
             {"Content-Type": "application/json", "Authorization": admin_auth}, 200)
        renamed.append(timed_token(client, client_secret))
    made = json.loads(call(admin, "POST", f"/api/admin/{tenant}/clients",
                           json.dumps({"authorization_server_id": server, "grant_types": ["client_credentials"]}),
                           {"Content-Type": "application/json", "Authorization": admin_auth}, 201))
    registered.append(timed_token(made["client_id"], made["client_secret"]))
a = f"{statistics.median(renamed):.2f} {max(renamed):.2f}" if renamed else "- -"
print(f"{a} {statistics.median(registered):.2f} {max(registered):.2f}")
