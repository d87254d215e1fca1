//! Times as people read them. The server renders a `<time>` with the exact instant in
//! `datetime` and a UTC reading ("6 Dec 2026, 15:28 UTC"), which is what a page without
//! JavaScript shows; once hydrated, the browser's own locale and time zone take over: "2 hours
//! ago" for the last week, the date and time otherwise, and the full local reading on hover.

use leptos::prelude::*;

/// A moment (RFC 3339 in UTC, as the server functions send times).
#[component]
pub fn Time(
    /// The instant, e.g. `2026-12-06T15:28:09.123Z`.
    #[prop(into)]
    at: String,
) -> impl IntoView {
    let fallback = utc_reading(&at).unwrap_or_else(|| at.clone());
    let shown = RwSignal::new(fallback.clone());
    let title = RwSignal::new(fallback);
    let instant = at.clone();
    Effect::new(move |_| {
        if let Some((text, full)) = local::reading(&instant) {
            shown.set(text);
            title.set(full);
        }
    });
    view! { <time datetime=at title=move || title.get()>{move || shown.get()}</time> }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// "6 Dec 2026, 15:28 UTC" for an RFC 3339 UTC instant; `None` for anything else.
pub fn utc_reading(at: &str) -> Option<String> {
    let (date, time) = at.strip_suffix('Z')?.split_once('T')?;
    let mut date = date.splitn(3, '-');
    let (year, month, day) = (date.next()?, date.next()?, date.next()?);
    let month = MONTHS.get(month.parse::<usize>().ok()?.checked_sub(1)?)?;
    let day: u8 = day.parse().ok()?;
    let hours_minutes = time.get(..5)?;
    if !hours_minutes
        .chars()
        .enumerate()
        .all(|(i, c)| if i == 2 { c == ':' } else { c.is_ascii_digit() })
    {
        return None;
    }
    Some(format!("{day} {month} {year}, {hours_minutes} UTC"))
}

/// The browser's reading: relative within a week, else the local date and time; and the full
/// local date and time for the title.
#[cfg(feature = "hydrate")]
mod local {
    use js_sys::{Array, Date, Function, Intl, Object, Reflect};
    use leptos::wasm_bindgen::{JsCast as _, JsValue};

    const MINUTE: f64 = 60_000.0;
    const HOUR: f64 = 60.0 * MINUTE;
    const DAY: f64 = 24.0 * HOUR;

    pub fn reading(at: &str) -> Option<(String, String)> {
        let date = Date::new(&JsValue::from_str(at));
        let millis = date.get_time();
        if millis.is_nan() {
            return None;
        }
        let full = local_string(&date, "long")?;
        let ago = Date::now() - millis;
        let text = if (0.0..7.0 * DAY).contains(&ago) {
            let (value, unit) = if ago < MINUTE {
                ((ago / 1000.0).floor(), "second")
            } else if ago < HOUR {
                ((ago / MINUTE).floor(), "minute")
            } else if ago < DAY {
                ((ago / HOUR).floor(), "hour")
            } else {
                ((ago / DAY).floor(), "day")
            };
            let options = Object::new();
            Reflect::set(&options, &"numeric".into(), &"auto".into()).ok()?;
            Intl::RelativeTimeFormat::new(&Array::new(), &options)
                .format(-value, unit)
                .into()
        } else {
            local_string(&date, "medium")?
        };
        Some((text, full))
    }

    /// `date.toLocaleString(undefined, { dateStyle, timeStyle: "short" })`, with the time zone
    /// named when the style is long.
    fn local_string(date: &Date, style: &str) -> Option<String> {
        let options = Object::new();
        Reflect::set(&options, &"dateStyle".into(), &style.into()).ok()?;
        Reflect::set(
            &options,
            &"timeStyle".into(),
            &(if style == "long" { "long" } else { "short" }).into(),
        )
        .ok()?;
        let format = Reflect::get(date, &"toLocaleString".into())
            .ok()?
            .dyn_into::<Function>()
            .ok()?;
        format
            .call2(date, &JsValue::UNDEFINED, &options)
            .ok()?
            .as_string()
    }
}

/// Server rendering: the UTC reading stays.
#[cfg(not(feature = "hydrate"))]
mod local {
    pub fn reading(_at: &str) -> Option<(String, String)> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::utc_reading;

    #[test]
    fn an_instant_reads_as_day_month_year_and_utc_time() {
        assert_eq!(
            utc_reading("2026-12-02T15:28:09.123Z").as_deref(),
            Some("2 Dec 2026, 15:28 UTC")
        );
        assert_eq!(
            utc_reading("2027-01-31T00:05:00Z").as_deref(),
            Some("31 Jan 2027, 00:05 UTC")
        );
    }

    #[test]
    fn anything_else_is_not_read() {
        for text in [
            "",
            "yesterday",
            "2026-13-02T15:28:09Z",
            "2026-12-02 15:28",
            "2026-12-02T1x:28Z",
        ] {
            assert_eq!(utc_reading(text), None, "{text}");
        }
    }
}
