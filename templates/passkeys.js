// Passkeys on the hosted pages (served at /assets/passkeys.js): the few lines WebAuthn needs.
// The pages work without it; it only reveals the passkey buttons where the browser has WebAuthn.
"use strict";
(function () {
  const b64 = {
    decode(text) {
      const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
      const binary = atob(base64 + "===".slice((base64.length + 3) % 4));
      return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
    },
    encode(buffer) {
      const bytes = new Uint8Array(buffer);
      let binary = "";
      for (const byte of bytes) binary += String.fromCharCode(byte);
      return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    },
  };

  // The server's JSON options with their byte fields as ArrayBuffers.
  function creationOptions(publicKey) {
    const options = { ...publicKey, challenge: b64.decode(publicKey.challenge) };
    options.user = { ...publicKey.user, id: b64.decode(publicKey.user.id) };
    options.excludeCredentials = (publicKey.excludeCredentials || []).map((c) => ({ ...c, id: b64.decode(c.id) }));
    return options;
  }

  function requestOptions(publicKey) {
    const options = { ...publicKey, challenge: b64.decode(publicKey.challenge) };
    options.allowCredentials = (publicKey.allowCredentials || []).map((c) => ({ ...c, id: b64.decode(c.id) }));
    return options;
  }

  // A PublicKeyCredential as the JSON the server takes (base64url byte fields).
  function credentialJson(credential) {
    const response = {};
    for (const name of ["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"]) {
      if (credential.response[name]) response[name] = b64.encode(credential.response[name]);
    }
    return {
      id: credential.id,
      rawId: b64.encode(credential.rawId),
      type: credential.type,
      response,
      extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    };
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Requested-With": "fetch" },
      body: JSON.stringify(body || {}),
    });
    const text = await response.text();
    const json = text ? JSON.parse(text) : null;
    if (!response.ok) throw new Error((json && json.error) || "The request failed (" + response.status + ").");
    return json;
  }

  function show(errorElement, message) {
    errorElement.textContent = message;
    errorElement.hidden = false;
  }

  // Sign in with a passkey: no email needed; then continue the authorization request, if any.
  async function signIn(button, errorElement) {
    button.disabled = true;
    errorElement.hidden = true;
    try {
      const challenge = await post("/passkeys/login/start");
      const credential = await navigator.credentials.get({ publicKey: requestOptions(challenge.publicKey) });
      await post("/passkeys/login/finish", {
        challenge_id: challenge.challenge_id,
        credential: credentialJson(credential),
        session: true,
      });
      const request = button.dataset.request;
      window.location.assign(request ? "/oauth2/authorize?" + request : "/account");
    } catch (error) {
      const message = error.name === "NotAllowedError"
        ? "The passkey sign-in was cancelled or timed out."
        : error.message === "Invalid credentials" ? "That passkey is not registered here." : error.message;
      show(errorElement, message);
      button.disabled = false;
    }
  }

  // A passkey as the second factor: the ceremony came with the page; the form carries the answer.
  async function secondFactor(button, errorElement) {
    button.disabled = true;
    errorElement.hidden = true;
    try {
      const options = JSON.parse(button.dataset.options);
      const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
      const form = button.form;
      form.elements.passkey_credential.value = JSON.stringify(credentialJson(credential));
      form.elements.totp_code.required = false;
      form.submit();
    } catch (error) {
      show(errorElement, error.name === "NotAllowedError" ? "The passkey check was cancelled or timed out." : error.message);
      button.disabled = false;
    }
  }

  // Add a passkey to the signed-in account.
  async function register(button, errorElement) {
    button.disabled = true;
    errorElement.hidden = true;
    try {
      const options = await post("/me/passkeys/register/start");
      const credential = await navigator.credentials.create({ publicKey: creationOptions(options.publicKey) });
      const name = document.getElementById("passkey-name").value;
      await post("/me/passkeys/register/finish", { name, credential: credentialJson(credential) });
      window.location.reload();
    } catch (error) {
      const message = error.name === "InvalidStateError"
        ? "This authenticator already holds a passkey for your account."
        : error.name === "NotAllowedError" ? "Adding the passkey was cancelled or timed out." : error.message;
      show(errorElement, message);
      button.disabled = false;
    }
  }

  if (!window.PublicKeyCredential) return;
  const wire = (id, action) => {
    const button = document.getElementById(id);
    if (!button) return;
    const errorElement = document.getElementById(id + "-error");
    button.hidden = false;
    button.addEventListener("click", () => action(button, errorElement));
  };
  wire("passkey-sign-in", signIn);
  wire("passkey-second-factor", secondFactor);
  wire("passkey-add", register);
})();
