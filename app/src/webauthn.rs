//! The browser side of passkey ceremonies: the server's options (JSON, binary fields in
//! base64url) become `navigator.credentials.create()` / `.get()` calls, and the credential that
//! comes back is encoded in the JSON form webauthn-rs reads. Outside the browser (server
//! rendering) there is no WebAuthn, and every call says so.

/// How a `get()` is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mediation {
    /// The browser's passkey dialog, now.
    Modal,
    /// Quietly, as autofill suggestions on the email field (conditional UI).
    Conditional,
}

#[cfg(feature = "hydrate")]
pub use browser::{abort_pending, conditional_available, create, get, go_to, supported};
#[cfg(not(feature = "hydrate"))]
pub use elsewhere::{abort_pending, conditional_available, create, get, go_to, supported};

/// Server rendering: no WebAuthn, and each call says so (the browser module says what they do).
#[cfg(not(feature = "hydrate"))]
mod elsewhere {
    use super::Mediation;
    use crate::error::UiError;

    pub fn supported() -> bool {
        false
    }

    pub async fn conditional_available() -> bool {
        false
    }

    pub async fn create(_options: &str) -> Result<String, UiError> {
        Err(UiError::PasskeysUnsupported)
    }

    pub async fn get(_options: &str, _mediation: Mediation) -> Result<String, UiError> {
        Err(UiError::PasskeysUnsupported)
    }

    pub fn abort_pending() {}

    pub fn go_to(_target: &str) {}
}

/// The browser: the real ceremonies.
#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::RefCell;

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use js_sys::{Array, ArrayBuffer, Function, Object, Promise, Reflect, Uint8Array, JSON};
    use leptos::wasm_bindgen::{JsCast as _, JsValue};
    use leptos::web_sys::AbortController;
    use wasm_bindgen_futures::JsFuture;

    use super::Mediation;
    use crate::error::UiError;

    thread_local! {
        /// The controller of the waiting conditional request, if any.
        static PENDING: RefCell<Option<AbortController>> = const { RefCell::new(None) };
    }

    fn get_field(target: &JsValue, name: &str) -> JsValue {
        Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    fn set_field(target: &JsValue, name: &str, value: &JsValue) {
        let _ = Reflect::set(target, &JsValue::from_str(name), value);
    }

    fn public_key_credential() -> Option<JsValue> {
        let window = leptos::web_sys::window()?;
        let class = get_field(&window, "PublicKeyCredential");
        (!class.is_undefined()).then_some(class)
    }

    fn credentials() -> Option<JsValue> {
        let window = leptos::web_sys::window()?;
        let credentials = get_field(&get_field(&window, "navigator"), "credentials");
        (!credentials.is_undefined()).then_some(credentials)
    }

    /// Whether this browser can use passkeys at all.
    pub fn supported() -> bool {
        public_key_credential().is_some() && credentials().is_some()
    }

    /// Whether the browser offers passkeys as autofill (conditional mediation).
    pub async fn conditional_available() -> bool {
        let Some(class) = public_key_credential() else {
            return false;
        };
        let Ok(check) = get_field(&class, "isConditionalMediationAvailable").dyn_into::<Function>()
        else {
            return false;
        };
        let Ok(promise) = check.call0(&class).and_then(|p| p.dyn_into::<Promise>()) else {
            return false;
        };
        JsFuture::from(promise).await.is_ok_and(|v| v.is_truthy())
    }

    /// Replaces the base64url text at `target[name]` with its bytes.
    fn decode_field(target: &JsValue, name: &str) -> Result<(), UiError> {
        let text = get_field(target, name)
            .as_string()
            .ok_or(UiError::PasskeyRejected)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| UiError::PasskeyRejected)?;
        set_field(target, name, &Uint8Array::from(bytes.as_slice()).buffer());
        Ok(())
    }

    fn decode_list(target: &JsValue, name: &str) -> Result<(), UiError> {
        let list = get_field(target, name);
        if list.is_undefined() || list.is_null() {
            return Ok(());
        }
        for item in Array::from(&list).iter() {
            decode_field(&item, "id")?;
        }
        Ok(())
    }

    fn encode(buffer: &JsValue) -> JsValue {
        match buffer.dyn_ref::<ArrayBuffer>() {
            Some(buffer) => {
                JsValue::from_str(&URL_SAFE_NO_PAD.encode(Uint8Array::new(buffer).to_vec()))
            }
            None => JsValue::NULL,
        }
    }

    fn parse(options: &str) -> Result<JsValue, UiError> {
        JSON::parse(options).map_err(|_| UiError::PasskeyRejected)
    }

    /// What a failed browser call means for the user.
    fn failure(error: &JsValue) -> UiError {
        match get_field(error, "name").as_string().as_deref() {
            Some("NotAllowedError" | "AbortError") => UiError::PasskeyCancelled,
            Some("NotSupportedError" | "SecurityError") => UiError::PasskeysUnsupported,
            // Only creation answers so: the authenticator holds one of the excluded passkeys.
            Some("InvalidStateError") => UiError::PasskeyAlreadyOnDevice,
            _ => UiError::PasskeyRejected,
        }
    }

    async fn call(method: &str, argument: &JsValue) -> Result<JsValue, UiError> {
        let credentials = credentials().ok_or(UiError::PasskeysUnsupported)?;
        let function = get_field(&credentials, method)
            .dyn_into::<Function>()
            .map_err(|_| UiError::PasskeysUnsupported)?;
        let promise = function
            .call1(&credentials, argument)
            .and_then(|p| p.dyn_into::<Promise>())
            .map_err(|e| failure(&e))?;
        let credential = JsFuture::from(promise).await.map_err(|e| failure(&e))?;
        if credential.is_null() || credential.is_undefined() {
            return Err(UiError::PasskeyCancelled);
        }
        Ok(credential)
    }

    fn stringify(value: &JsValue) -> Result<String, UiError> {
        JSON::stringify(value)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or(UiError::PasskeyRejected)
    }

    /// The fields every credential answer has.
    fn answer(credential: &JsValue, response: &Object) -> Result<String, UiError> {
        let answer = Object::new();
        set_field(&answer, "id", &get_field(credential, "id"));
        set_field(&answer, "rawId", &encode(&get_field(credential, "rawId")));
        set_field(&answer, "type", &get_field(credential, "type"));
        set_field(&answer, "response", response);
        set_field(&answer, "extensions", &Object::new());
        stringify(&answer)
    }

    /// Creates a credential for `options`; returns the `RegisterPublicKeyCredential` JSON.
    ///
    /// # Errors
    /// `PasskeysUnsupported`, `PasskeyCancelled`, `PasskeyAlreadyOnDevice` (the authenticator
    /// already holds a passkey for this account), or `PasskeyRejected`.
    pub async fn create(options: &str) -> Result<String, UiError> {
        if !supported() {
            return Err(UiError::PasskeysUnsupported);
        }
        abort_pending();
        let public_key = parse(options)?;
        decode_field(&public_key, "challenge")?;
        decode_field(&get_field(&public_key, "user"), "id")?;
        decode_list(&public_key, "excludeCredentials")?;
        let argument = Object::new();
        set_field(&argument, "publicKey", &public_key);
        let credential = call("create", &argument).await?;
        let raw = get_field(&credential, "response");
        let response = Object::new();
        set_field(
            &response,
            "attestationObject",
            &encode(&get_field(&raw, "attestationObject")),
        );
        set_field(
            &response,
            "clientDataJSON",
            &encode(&get_field(&raw, "clientDataJSON")),
        );
        if let Ok(transports) = get_field(&raw, "getTransports").dyn_into::<Function>() {
            if let Ok(list) = transports.call0(&raw) {
                set_field(&response, "transports", &list);
            }
        }
        answer(&credential, &response)
    }

    /// Asks for an assertion for `options`; returns the `PublicKeyCredential` JSON. A
    /// conditional request can be cancelled with [`abort_pending`].
    ///
    /// # Errors
    /// `PasskeysUnsupported`, `PasskeyCancelled` (also when aborted), or `PasskeyRejected`.
    pub async fn get(options: &str, mediation: Mediation) -> Result<String, UiError> {
        if !supported() {
            return Err(UiError::PasskeysUnsupported);
        }
        abort_pending();
        let public_key = parse(options)?;
        decode_field(&public_key, "challenge")?;
        decode_list(&public_key, "allowCredentials")?;
        let argument = Object::new();
        set_field(&argument, "publicKey", &public_key);
        if mediation == Mediation::Conditional {
            let controller = AbortController::new().map_err(|_| UiError::PasskeysUnsupported)?;
            set_field(&argument, "mediation", &JsValue::from_str("conditional"));
            set_field(&argument, "signal", &controller.signal());
            PENDING.with(|pending| *pending.borrow_mut() = Some(controller));
        }
        let credential = call("get", &argument).await?;
        let raw = get_field(&credential, "response");
        let response = Object::new();
        for field in [
            "authenticatorData",
            "clientDataJSON",
            "signature",
            "userHandle",
        ] {
            set_field(&response, field, &encode(&get_field(&raw, field)));
        }
        answer(&credential, &response)
    }

    /// Cancels a waiting conditional request (a browser allows one credentials request at a
    /// time).
    pub fn abort_pending() {
        if let Some(controller) = PENDING.with(|pending| pending.borrow_mut().take()) {
            controller.abort();
        }
    }

    /// Sends the browser to `target` with a full page load, so every resource of the new
    /// session is fetched fresh.
    pub fn go_to(target: &str) {
        if let Some(window) = leptos::web_sys::window() {
            let _ = window.location().assign(target);
        }
    }
}
