//! Copying text to the clipboard (the new API token's copy button). Only a hydrated page can;
//! without JavaScript the token stays selectable in its field.

/// Copies `text`; whether the browser accepted the request.
#[cfg(feature = "hydrate")]
pub fn copy(text: &str) -> bool {
    use js_sys::{Function, Reflect};
    use leptos::wasm_bindgen::{JsCast as _, JsValue};

    let field = |target: &JsValue, name: &str| {
        Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    };
    let Some(window) = leptos::web_sys::window() else {
        return false;
    };
    let clipboard = field(&field(&window, "navigator"), "clipboard");
    let Ok(write) = field(&clipboard, "writeText").dyn_into::<Function>() else {
        return false;
    };
    write.call1(&clipboard, &JsValue::from_str(text)).is_ok()
}

/// Server rendering has no clipboard.
#[cfg(not(feature = "hydrate"))]
pub fn copy(_text: &str) -> bool {
    false
}
