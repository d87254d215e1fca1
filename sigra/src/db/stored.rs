//! How values are stored and read back: the one mechanism for columns that hold an enum, an
//! id or a time. Row structs derive `sqlx::FromRow` and name these types as their fields, so
//! a column is read by name and a value is checked once, here, on the way in.
//!
//! Values of other crates' types are stored as JSON ([`Json`]).
//!
//! [`stored_enum!`] gives a fieldless enum its stored names (written once, beside each
//! variant), `ALL`, `as_str`, `Display`, `FromStr` and decoding; a row holding a name this
//! version does not know fails to decode, or reads as [`Known`]`(None)` where the caller
//! tolerates rows from a newer version or a hand edit.

use std::str::FromStr;

use serde::de::DeserializeOwned;
use sqlx::any::{Any, AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{Decode, Type};

use crate::clock::Timestamp;
use crate::organizations::{OrganizationId, Slug};
use crate::password::PasswordHash;
use crate::users::UserId;

/// A stored name that is not one of the enum's: a row written by hand or by a newer version.
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} {name:?}")]
pub struct UnknownName {
    /// The enum's type name.
    pub kind: &'static str,
    /// The name found.
    pub name: String,
}

/// Declares an enum stored as text. Each variant names its stored form:
/// `Standard = "standard",`.
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::db::UnknownName;

            fn from_str(text: &str) -> ::std::result::Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == text)
                    .ok_or_else(|| $crate::db::UnknownName {
                        kind: stringify!($name),
                        name: text.to_owned(),
                    })
            }
        }

        impl ::sqlx::Type<::sqlx::Any> for $name {
            fn type_info() -> ::sqlx::any::AnyTypeInfo {
                <String as ::sqlx::Type<::sqlx::Any>>::type_info()
            }
        }

        impl<'r> ::sqlx::Decode<'r, ::sqlx::Any> for $name {
            fn decode(
                value: ::sqlx::any::AnyValueRef<'r>,
            ) -> ::std::result::Result<Self, ::sqlx::error::BoxDynError> {
                let text = <String as ::sqlx::Decode<'r, ::sqlx::Any>>::decode(value)?;
                Ok(text.parse::<Self>()?)
            }
        }
    };
}

pub(crate) use stored_enum;

/// A stored name read leniently: the value, if this version knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Known<T>(pub Option<T>);

impl<T> Type<Any> for Known<T> {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }
}

impl<'r, T: FromStr> Decode<'r, Any> for Known<T> {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <String as Decode<'r, Any>>::decode(value)?;
        Ok(Self(text.parse().ok()))
    }
}

/// A value stored as JSON text (serde types from other crates, such as a WebAuthn credential).
#[derive(Clone, Debug)]
pub struct Json<T>(pub T);

impl<T> Type<Any> for Json<T> {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }
}

impl<'r, T: DeserializeOwned> Decode<'r, Any> for Json<T> {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <String as Decode<'r, Any>>::decode(value)?;
        Ok(Self(serde_json::from_str(&text)?))
    }
}

/// Times are stored as Unix milliseconds.
impl Type<Any> for Timestamp {
    fn type_info() -> AnyTypeInfo {
        <i64 as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <i64 as Type<Any>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Any> for Timestamp {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self::from_millis(<i64 as Decode<'r, Any>>::decode(value)?))
    }
}

/// Newtypes over text that the core wrote itself (ids, hashes): read back as stored.
macro_rules! decode_stored_text {
    ($($type:ty),+) => {$(
        impl Type<Any> for $type {
            fn type_info() -> AnyTypeInfo {
                <String as Type<Any>>::type_info()
            }
        }

        impl<'r> Decode<'r, Any> for $type {
            fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok(Self::from_stored(<String as Decode<'r, Any>>::decode(value)?))
            }
        }
    )+};
}

decode_stored_text!(UserId, PasswordHash, OrganizationId, Slug);

#[cfg(test)]
mod tests {
    stored_enum! {
        enum Colour {
            Red = "red",
            DarkBlue = "dark_blue",
        }
    }

    #[test]
    fn every_value_reads_back_from_its_stored_name() {
        for colour in Colour::ALL {
            assert_eq!(colour.as_str().parse::<Colour>().unwrap(), *colour);
            assert_eq!(colour.to_string(), colour.as_str());
        }
    }

    #[test]
    fn an_unknown_name_is_refused_and_named() {
        let error = "green".parse::<Colour>().unwrap_err();
        assert_eq!(error.to_string(), r#"unknown Colour "green""#);
    }
}
