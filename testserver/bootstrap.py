#!/usr/bin/env python3
"""Idempotent bootstrap of the local Mattermost test server (stdlib only).

usage: bootstrap.py URL CONNECTION_JSON

Creates (or repairs) the fixed test fixtures and writes CONNECTION_JSON:
admin (first user = system admin) with a personal access token, two regular
users, an MFA test user, a bot with an access token, a team with everyone in
it, a public and a private channel.  Tokens stored in an existing
CONNECTION_JSON are reused while they still authenticate.
"""
import json
import os
import sys
import urllib.error
import urllib.request

ADMIN = {"username": "admin", "password": "Admin-Passw0rd!", "email": "admin@example.com",
         "first_name": "Ada", "last_name": "Admin"}
USER = {"username": "alice", "password": "Alice-Passw0rd!", "email": "alice@example.com",
        "first_name": "Alice", "last_name": "Tester"}
USER2 = {"username": "bob", "password": "Bob-Passw0rd!", "email": "bob@example.com",
         "first_name": "Bob", "last_name": "Tester"}
MFA_USER = {"username": "mfauser", "password": "Mfa-Passw0rd!", "email": "mfauser@example.com",
            "first_name": "Mfa", "last_name": "Tester"}
BOT = {"username": "testbot", "display_name": "Test Bot", "description": "matterapi test bot"}
TEAM = {"name": "testteam", "display_name": "Test Team", "type": "O"}
PUBLIC = {"name": "test-public", "display_name": "Test Public", "type": "O"}
PRIVATE = {"name": "test-private", "display_name": "Test Private", "type": "P"}
TOKEN_DESCRIPTION = "matterapi tests"

# Never use an HTTP proxy for the loopback server, and never keep cookies.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ApiError(Exception):
    pass


class Api:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def call(self, method, path, body=None, token=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/api/v4" + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        req.add_header("X-Requested-With", "XMLHttpRequest")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with _opener.open(req, timeout=60) as r:
                status, headers, raw = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, headers, raw = e.code, e.headers, e.read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return status, headers, payload

    def must(self, method, path, body=None, token=None, ok=(200, 201)):
        status, headers, payload = self.call(method, path, body, token)
        if status not in ok:
            raise ApiError("%s %s -> %s: %s" % (method, path, status, payload))
        return payload


def log(msg):
    print("[bootstrap] " + msg, file=sys.stderr)


def login(api, username, password):
    status, headers, payload = api.call("POST", "/users/login",
                                        {"login_id": username, "password": password})
    if status == 200:
        return headers.get("Token"), payload
    return None, payload


def ensure_admin(api):
    token, _ = login(api, ADMIN["username"], ADMIN["password"])
    if token is None:
        # Either the user does not exist yet (fresh database) or its password differs.
        status, _, payload = api.call("POST", "/users", ADMIN)
        if status != 201:
            raise ApiError("cannot log in as or create the admin user (%s: %s); "
                           "if the database holds other data, run 'server.sh reset'" % (status, payload))
        log("created admin user")
        token, payload = login(api, ADMIN["username"], ADMIN["password"])
        if token is None:
            raise ApiError("admin created but login failed: %s" % payload)
    me = api.must("GET", "/users/me", token=token)
    if "system_admin" not in me.get("roles", "").split():
        raise ApiError("user 'admin' is not a system admin (roles %r); run 'server.sh reset'" % me.get("roles"))
    return token, me


def ensure_user(api, admin_tok, spec):
    status, _, user = api.call("GET", "/users/username/" + spec["username"], token=admin_tok)
    if status == 404:
        user = api.must("POST", "/users", spec, token=admin_tok)
        log("created user " + spec["username"])
    elif status != 200:
        raise ApiError("GET user %s -> %s: %s" % (spec["username"], status, user))
    uid = user["id"]
    # Repair what earlier test runs may have changed.
    if user.get("delete_at"):
        api.must("PUT", "/users/%s/active" % uid, {"active": True}, token=admin_tok)
        log("reactivated " + spec["username"])
    if user.get("mfa_active"):
        api.must("PUT", "/users/%s/mfa" % uid, {"activate": False}, token=admin_tok)
        log("turned MFA off for " + spec["username"])
    tok, _ = login(api, spec["username"], spec["password"])
    if tok is None:
        api.must("PUT", "/users/%s/password" % uid, {"new_password": spec["password"]}, token=admin_tok)
        log("reset password of " + spec["username"])
        tok, payload = login(api, spec["username"], spec["password"])
        if tok is None:
            raise ApiError("cannot log in as %s: %s" % (spec["username"], payload))
    api.call("POST", "/users/logout", {}, token=tok)
    return user


def token_valid(api, token, user_id):
    if not token:
        return False
    status, _, me = api.call("GET", "/users/me", token=token)
    return status == 200 and isinstance(me, dict) and me.get("id") == user_id


def ensure_token(api, admin_tok, user_id, old):
    old = old or {}
    if token_valid(api, old.get("token"), user_id):
        return old["token"], old.get("token_id")
    created = api.must("POST", "/users/%s/tokens" % user_id, {"description": TOKEN_DESCRIPTION},
                       token=admin_tok)
    log("created access token for user " + user_id)
    return created["token"], created.get("id")


def ensure_bot(api, admin_tok):
    status, _, user = api.call("GET", "/users/username/" + BOT["username"], token=admin_tok)
    if status == 404:
        bot = api.must("POST", "/bots", BOT, token=admin_tok)
        log("created bot " + BOT["username"])
        return bot
    if status != 200:
        raise ApiError("GET user %s -> %s: %s" % (BOT["username"], status, user))
    if not user.get("is_bot"):
        raise ApiError("user %s exists but is not a bot; run 'server.sh reset'" % BOT["username"])
    bot = api.must("GET", "/bots/%s?include_deleted=true" % user["id"], token=admin_tok)
    if bot.get("delete_at"):
        bot = api.must("POST", "/bots/%s/enable" % user["id"], token=admin_tok)
        log("re-enabled bot " + BOT["username"])
    return bot


def ensure_team(api, admin_tok):
    status, _, team = api.call("GET", "/teams/name/" + TEAM["name"], token=admin_tok)
    if status == 404:
        team = api.must("POST", "/teams", TEAM, token=admin_tok)
        log("created team " + TEAM["name"])
    elif status != 200:
        raise ApiError("GET team -> %s: %s" % (status, team))
    if team.get("delete_at"):
        team = api.must("POST", "/teams/%s/restore" % team["id"], token=admin_tok)
        log("restored team " + TEAM["name"])
    return team


def ensure_channel(api, admin_tok, team_id, spec):
    path = "/teams/%s/channels/name/%s?include_deleted=true" % (team_id, spec["name"])
    status, _, ch = api.call("GET", path, token=admin_tok)
    if status == 404:
        body = dict(spec, team_id=team_id)
        ch = api.must("POST", "/channels", body, token=admin_tok)
        log("created channel " + spec["name"])
    elif status != 200:
        raise ApiError("GET channel %s -> %s: %s" % (spec["name"], status, ch))
    if ch.get("delete_at"):
        ch = api.must("POST", "/channels/%s/restore" % ch["id"], token=admin_tok)
        log("restored channel " + spec["name"])
    return ch


# What the receiver tests (tests/live_receiver.rs) need: the server calls integrations on
# loopback. server.sh sets the same through MM_* variables; this covers a server started otherwise.
INTEGRATION_SETTINGS = {"EnableCommands": True, "EnableOutgoingWebhooks": True,
                        "EnablePostUsernameOverride": True}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def ensure_integration_settings(api, admin_tok):
    service = api.must("GET", "/config", token=admin_tok).get("ServiceSettings", {})
    hosts = (service.get("AllowedUntrustedInternalConnections") or "").split()
    missing = [h for h in LOOPBACK_HOSTS if h not in hosts]
    wrong = {k: v for k, v in INTEGRATION_SETTINGS.items() if service.get(k) != v}
    if not missing and not wrong:
        return
    patch = dict(wrong)
    if missing:
        patch["AllowedUntrustedInternalConnections"] = " ".join(hosts + missing)
    api.must("PUT", "/config/patch", {"ServiceSettings": patch}, token=admin_tok)
    log("patched ServiceSettings: " + ", ".join(sorted(patch)))


def main():
    url, conn_path = sys.argv[1], sys.argv[2]
    api = Api(url)
    old = {}
    if os.path.exists(conn_path):
        try:
            with open(conn_path) as f:
                old = json.load(f)
        except (OSError, ValueError):
            old = {}

    admin_tok, admin = ensure_admin(api)
    ensure_integration_settings(api, admin_tok)
    user = ensure_user(api, admin_tok, USER)
    user2 = ensure_user(api, admin_tok, USER2)
    mfa_user = ensure_user(api, admin_tok, MFA_USER)
    bot = ensure_bot(api, admin_tok)
    bot_uid = bot["user_id"]

    team = ensure_team(api, admin_tok)
    for uid in (admin["id"], user["id"], user2["id"], mfa_user["id"], bot_uid):
        api.must("POST", "/teams/%s/members" % team["id"], {"team_id": team["id"], "user_id": uid},
                 token=admin_tok)

    town = api.must("GET", "/teams/%s/channels/name/town-square" % team["id"], token=admin_tok)
    public = ensure_channel(api, admin_tok, team["id"], PUBLIC)
    private = ensure_channel(api, admin_tok, team["id"], PRIVATE)
    for ch in (public, private):
        for uid in (admin["id"], user["id"], user2["id"], bot_uid):
            api.must("POST", "/channels/%s/members" % ch["id"], {"user_id": uid}, token=admin_tok)

    admin_pat, admin_pat_id = ensure_token(api, admin_tok, admin["id"], old.get("admin"))
    bot_tok, bot_tok_id = ensure_token(api, admin_tok, bot_uid, old.get("bot"))

    status, headers, _ = api.call("GET", "/system/ping")
    client_cfg = api.must("GET", "/config/client?format=old")
    api.call("POST", "/users/logout", {}, token=admin_tok)

    conn = {
        "url": url,
        "admin": {"id": admin["id"], "username": ADMIN["username"], "password": ADMIN["password"],
                  "email": ADMIN["email"], "token": admin_pat, "token_id": admin_pat_id},
        "user": {"id": user["id"], "username": USER["username"], "password": USER["password"],
                 "email": USER["email"]},
        "user2": {"id": user2["id"], "username": USER2["username"], "password": USER2["password"],
                  "email": USER2["email"]},
        "mfa_user": {"id": mfa_user["id"], "username": MFA_USER["username"],
                     "password": MFA_USER["password"], "email": MFA_USER["email"]},
        "bot": {"id": bot_uid, "user_id": bot_uid, "username": bot["username"],
                "owner_id": bot.get("owner_id"), "token": bot_tok, "token_id": bot_tok_id},
        "team": {"id": team["id"], "name": team["name"]},
        "channels": {"town_square": town["id"], "public": public["id"], "private": private["id"]},
        "server_version": client_cfg.get("Version"),
        "server_version_id": headers.get("X-Version-Id"),
        "build_hash": client_cfg.get("BuildHash"),
    }
    tmp = conn_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(conn, f, indent=2)
        f.write("\n")
    os.replace(tmp, conn_path)


if __name__ == "__main__":
    try:
        main()
    except (ApiError, OSError) as e:
        log("ERROR: %s" % e)
        sys.exit(1)
