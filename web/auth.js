/* PhotoFlow sign-in: Cognito managed login with the authorization code flow and PKCE.
 *
 * config.auth (written by `photoflow publish-page`, or by the local stack) names the
 * login domain, the app client and the page's callback and sign-out URLs. Signing in
 * sends the browser to <domain>/oauth2/authorize with a fresh PKCE challenge (S256)
 * and state; the login redirects back with a code, which is exchanged at
 * <domain>/oauth2/token for an ID token (sent to the API), an access token and a
 * refresh token. Tokens live in this tab's sessionStorage only, never in config.js
 * or a cookie. Before the ID token expires it is renewed with the refresh token,
 * without leaving the page; signing out forgets them and ends the login's session
 * at <domain>/logout.
 */
(function () {
  "use strict";

  const settings = (window.PHOTOFLOW_CONFIG || {}).auth || null;
  const STORE = "photoflow.tokens";
  const PENDING = "photoflow.signin";
  const RENEW_BEFORE_MS = 5 * 60 * 1000; // renew an ID token this long before it expires
  const domain = settings ? String(settings.domain || "").replace(/\/+$/, "") : "";

  function base64url(bytes) {
    let text = "";
    for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomString(bytes) {
    return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
  }

  async function challengeOf(verifier) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    return base64url(digest);
  }

  /** The claims of a JWT, read (not verified: the API verifies it). */
  function claimsOf(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (_) {
      return null;
    }
  }

  function load() {
    try {
      return JSON.parse(sessionStorage.getItem(STORE) || "null");
    } catch (_) {
      return null;
    }
  }

  function save(tokens) {
    if (tokens) sessionStorage.setItem(STORE, JSON.stringify(tokens));
    else sessionStorage.removeItem(STORE);
  }

  async function tokenRequest(form) {
    const response = await fetch(`${domain}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
    });
    if (!response.ok) return null;
    const body = await response.json();
    const claims = claimsOf(body.id_token || "");
    if (!claims || typeof claims.exp !== "number") return null;
    return { idToken: body.id_token, refreshToken: body.refresh_token, expiresAt: claims.exp * 1000 };
  }

  let renewing = null;
  let renewTimer = null;

  function scheduleRenewal(tokens) {
    clearTimeout(renewTimer);
    if (!tokens || !tokens.refreshToken) return;
    const due = Math.max(0, tokens.expiresAt - RENEW_BEFORE_MS - Date.now());
    renewTimer = setTimeout(() => renew(), due);
  }

  /** A new ID token from the refresh token, without leaving the page. */
  function renew() {
    const held = load();
    if (!held || !held.refreshToken) return Promise.resolve(null);
    if (!renewing) {
      renewing = tokenRequest({
        grant_type: "refresh_token",
        client_id: settings.clientId,
        refresh_token: held.refreshToken,
      }).then((fresh) => {
        renewing = null;
        const tokens = fresh ? { ...fresh, refreshToken: held.refreshToken } : null;
        save(tokens);
        scheduleRenewal(tokens);
        if (!tokens) window.dispatchEvent(new CustomEvent("photoflow:signed-out"));
        return tokens;
      });
    }
    return renewing;
  }

  /** The code the login sent back, exchanged for tokens (once), and the address cleaned. */
  async function finishSignIn() {
    const params = new URLSearchParams(window.location.search);
    if (!params.has("code") && !params.has("error")) return;
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
    sessionStorage.removeItem(PENDING);
    window.history.replaceState(null, "", settings.redirectUri || window.location.pathname);
    if (!pending || params.get("state") !== pending.state || !params.get("code")) return;
    const tokens = await tokenRequest({
      grant_type: "authorization_code",
      client_id: settings.clientId,
      code: params.get("code"),
      redirect_uri: settings.redirectUri,
      code_verifier: pending.verifier,
    });
    save(tokens);
    scheduleRenewal(tokens);
  }

  const auth = {
    enabled: Boolean(settings && domain && settings.clientId),

    /** Resolves once a returning sign-in has been completed. */
    ready: Promise.resolve(),

    /** The ID token to send to the API (renewed first when about to expire); null if
     *  nobody is signed in. */
    async idToken() {
      if (!this.enabled) return null;
      await this.ready;
      let tokens = load();
      if (tokens && tokens.expiresAt - Date.now() < RENEW_BEFORE_MS) tokens = await renew();
      return tokens ? tokens.idToken : null;
    },

    /** Who is signed in: the ID token's user name, or null. */
    user() {
      const tokens = load();
      const claims = tokens && claimsOf(tokens.idToken);
      return claims ? claims["cognito:username"] || claims.email || claims.sub : null;
    },

    async signIn() {
      const verifier = randomString(48);
      const state = randomString(16);
      sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
      const query = new URLSearchParams({
        response_type: "code",
        client_id: settings.clientId,
        redirect_uri: settings.redirectUri,
        scope: settings.scope || "openid email profile",
        state,
        code_challenge: await challengeOf(verifier),
        code_challenge_method: "S256",
      });
      window.location.assign(`${domain}/oauth2/authorize?${query}`);
    },

    signOut() {
      save(null);
      clearTimeout(renewTimer);
      const query = new URLSearchParams({ client_id: settings.clientId, logout_uri: settings.logoutUri });
      window.location.assign(`${domain}/logout?${query}`);
    },

    /** The API refused the token: forget it, so the page asks to sign in again. */
    forget() {
      save(null);
      clearTimeout(renewTimer);
    },
  };

  if (auth.enabled) {
    auth.ready = finishSignIn()
      .catch(() => save(null))
      .then(() => scheduleRenewal(load()));
  }
  window.PhotoFlowAuth = auth;
})();
