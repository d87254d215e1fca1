//! Keyset paging for lists that grow: rows ordered newest first by `(created_at, id)`, and an
//! opaque cursor (base64url of `created_at|id`) naming the last row a page showed.

use crate::clock::Timestamp;
use crate::crypto::{b64url, from_b64url};

/// Rows per page when the caller does not say.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The most rows one page holds.
pub const MAX_PAGE_SIZE: u32 = 200;

/// Where a page starts: after `cursor` (or at the newest row), at most `limit` rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows wanted (clamped to 1..=200; 50 when absent).
    pub limit: Option<u32>,
    /// The cursor of the previous page, as the client sent it.
    pub cursor: Option<String>,
}

/// A page of rows, and the cursor of the next one when there are more.
#[derive(Clone, Debug)]
pub struct Page<T> {
    /// The rows, newest first.
    pub items: Vec<T>,
    /// Where the next page starts (`None` on the last page).
    pub next_cursor: Option<String>,
}

/// A decoded cursor: the last row seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub created_at: Timestamp,
    pub id: String,
}

impl Cursor {
    pub(crate) fn encode(&self) -> String {
        b64url(format!("{}|{}", self.created_at.as_millis(), self.id).as_bytes())
    }

    /// `None` for anything that is not a cursor we made (a client's garbage starts a list
    /// from the top rather than failing).
    pub(crate) fn decode(text: &str) -> Option<Self> {
        if text.len() > 200 {
            return None;
        }
        let bytes = from_b64url(text)?;
        let text = String::from_utf8(bytes).ok()?;
        let (at, id) = text.split_once('|')?;
        let valid_id = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        valid_id.then_some(())?;
        Some(Self {
            created_at: Timestamp::from_millis(at.parse().ok()?),
            id: id.to_owned(),
        })
    }
}

impl PageRequest {
    /// The clamped page size.
    pub(crate) fn size(&self) -> u32 {
        self.limit
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE)
    }

    /// The decoded cursor, if a valid one was given.
    pub(crate) fn after(&self) -> Option<Cursor> {
        self.cursor.as_deref().and_then(Cursor::decode)
    }
}

/// Cuts `rows` (fetched with one row more than the page size) into a page.
pub(crate) fn page_of<T>(mut rows: Vec<T>, size: u32, cursor_of: impl Fn(&T) -> Cursor) -> Page<T> {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let more = rows.len() > size;
    rows.truncate(size);
    let next_cursor = if more {
        rows.last().map(|row| cursor_of(row).encode())
    } else {
        None
    };
    Page {
        items: rows,
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sizes_are_clamped() {
        let size = |limit| {
            PageRequest {
                limit,
                cursor: None,
            }
            .size()
        };
        assert_eq!(size(None), 50);
        assert_eq!(size(Some(0)), 1);
        assert_eq!(size(Some(1000)), 200);
    }

    #[test]
    fn a_cursor_round_trips() {
        let cursor = Cursor {
            created_at: Timestamp::from_millis(1_700_000_000_123),
            id: "0192f3a4-7b1c-7d2e-8f90-a1b2c3d4e5f6".to_owned(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
    }

    proptest! {
        #[test]
        fn any_text_decodes_to_a_valid_cursor_or_nothing(text in "\\PC{0,120}") {
            if let Some(cursor) = Cursor::decode(&text) {
                prop_assert!(cursor.id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'));
            }
        }
    }
}
