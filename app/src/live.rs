//! Following the server live over server-sent events, once the page is interactive: the
//! session (an open page learns within a second that it ended anywhere, and goes to log-in
//! saying why), and for admins, changes to what a list shows. Without JavaScript nothing here
//! runs, and the next request is refused as before.

use std::time::Duration;

use leptos::prelude::*;

use crate::paths;

#[cfg(feature = "hydrate")]
pub use browser::EventStream;
#[cfg(not(feature = "hydrate"))]
pub use elsewhere::EventStream;

/// How long a page waits after hearing that its session ended before it leaves: long enough
/// for its own action that ended it (a log-out, a deletion) to take the page where that action
/// goes, which then wins.
const SETTLE: Duration = Duration::from_millis(500);

/// Keeps the page's session followed while `signed_in` says so (`None`: not known yet, keep
/// what is open). A stream closed by an error is opened again on the next change.
pub fn follow_session(signed_in: impl Fn() -> Option<bool> + 'static) {
    Effect::new(move |open: Option<Option<EventStream>>| {
        let open = open.flatten();
        match signed_in() {
            None => open,
            Some(false) => None,
            Some(true) => match open {
                Some(stream) if !stream.is_closed() => Some(stream),
                _ => EventStream::open_final(paths::LIVE_SESSION, "ended", SETTLE, leave_for),
            },
        }
    });
}

/// Calls `on_change` whenever an admin's data changes (at most once a second).
pub fn on_admin_change(on_change: impl Fn() + 'static) {
    let on_change = std::rc::Rc::new(on_change);
    Effect::new(move |open: Option<Option<EventStream>>| {
        open.flatten().or_else(|| {
            let on_change = std::rc::Rc::clone(&on_change);
            EventStream::open(paths::LIVE_ADMIN, "changed", move |_| on_change())
        })
    });
}

/// Leaves the page for `target` (where the server says an ended session goes), asking to come
/// back here after the next log-in.
fn leave_for(target: String) {
    let here = window()
        .location()
        .pathname()
        .ok()
        .filter(|path| path.starts_with('/'))
        .unwrap_or_else(|| paths::HOME.to_owned());
    let back = format!("{target}&return_to={}", paths::encode_query_value(&here));
    let _ = window().location().assign(&back);
}

/// Server rendering: nothing to follow.
#[cfg(not(feature = "hydrate"))]
mod elsewhere {
    use std::time::Duration;

    /// An event stream (only the browser opens one).
    pub struct EventStream;

    impl EventStream {
        pub fn open(
            _path: &str,
            _event: &str,
            _on_event: impl Fn(String) + 'static,
        ) -> Option<Self> {
            None
        }

        pub fn open_final(
            _path: &str,
            _event: &str,
            _settle: Duration,
            _on_event: impl Fn(String) + 'static,
        ) -> Option<Self> {
            None
        }

        pub fn is_closed(&self) -> bool {
            true
        }
    }
}

/// The browser's `EventSource`.
#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;

    use leptos::ev;
    use leptos::prelude::{set_timeout, window, window_event_listener, WindowListenerHandle};
    use leptos::wasm_bindgen::closure::Closure;
    use leptos::wasm_bindgen::JsCast as _;
    use leptos::web_sys::{EventSource, MessageEvent};

    /// An open event stream, closed when dropped or when the page starts to unload (a plain
    /// form's post, a link out), so nothing it says can cut across that navigation.
    pub struct EventStream {
        source: EventSource,
        alive: Rc<Cell<bool>>,
        // Held so the listeners live as long as the stream.
        _listener: Closure<dyn FnMut(MessageEvent)>,
        unloading: Option<WindowListenerHandle>,
    }

    impl EventStream {
        /// Opens `path` and calls `on_event` with the data of each `event`.
        pub fn open(path: &str, event: &str, on_event: impl Fn(String) + 'static) -> Option<Self> {
            Self::start(path, event, move |data, _| on_event(data))
        }

        /// Opens `path`, whose `event` is its last word: the stream closes on it, and
        /// `on_event` runs `settle` later if the page is still where it was and the stream was
        /// not dropped meanwhile.
        pub fn open_final(
            path: &str,
            event: &str,
            settle: Duration,
            on_event: impl Fn(String) + 'static,
        ) -> Option<Self> {
            let on_event = Rc::new(on_event);
            Self::start(path, event, move |data, stream: Heard| {
                stream.source.close();
                let here = window().location().href().ok();
                let on_event = Rc::clone(&on_event);
                set_timeout(
                    move || {
                        if stream.alive.get() && window().location().href().ok() == here {
                            on_event(data);
                        }
                    },
                    settle,
                );
            })
        }

        fn start(
            path: &str,
            event: &str,
            on_event: impl Fn(String, Heard) + 'static,
        ) -> Option<Self> {
            let source = EventSource::new(path).ok()?;
            let alive = Rc::new(Cell::new(true));
            let heard = Heard {
                source: source.clone(),
                alive: Rc::clone(&alive),
            };
            let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
                if heard.alive.get() {
                    on_event(
                        message.data().as_string().unwrap_or_default(),
                        heard.clone(),
                    );
                }
            });
            source
                .add_event_listener_with_callback(event, listener.as_ref().unchecked_ref())
                .ok()?;
            let unloading = {
                let (source, alive) = (source.clone(), Rc::clone(&alive));
                window_event_listener(ev::beforeunload, move |_| {
                    alive.set(false);
                    source.close();
                })
            };
            Some(Self {
                source,
                alive,
                _listener: listener,
                unloading: Some(unloading),
            })
        }

        /// Whether the stream is over (closed by its last word, an unload, or an answer that
        /// was not a stream).
        pub fn is_closed(&self) -> bool {
            self.source.ready_state() == EventSource::CLOSED
        }
    }

    /// What a listener may touch of its stream.
    #[derive(Clone)]
    struct Heard {
        source: EventSource,
        alive: Rc<Cell<bool>>,
    }

    impl Drop for EventStream {
        fn drop(&mut self) {
            self.alive.set(false);
            self.source.close();
            if let Some(unloading) = self.unloading.take() {
                unloading.remove();
            }
        }
    }
}
