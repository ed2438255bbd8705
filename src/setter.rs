//! What the generated builders' setters of optional fields accept.
//!
//! A typify builder's setter of an optional field (`types::builder::CreatePostBody::root_id`)
//! takes any [`IntoOptional`] of the field's type: the value itself, an `Option` of it (`None`
//! unsets the field), and for a string field `&str`, `&String`, `Box<str>` or `Cow<str>` as well:
//!
//! ```
//! let body: matterapi::types::CreatePostBody = matterapi::types::CreatePostBody::builder()
//!     .channel_id("a channel id")
//!     .message("hello")
//!     .root_id("a post id")
//!     .try_into()?;
//! assert_eq!(body.root_id.as_deref(), Some("a post id"));
//! # Ok::<(), matterapi::types::error::ConversionError>(())
//! ```

use std::borrow::Cow;

/// A value for an optional field of type `Option<T>`.
pub trait IntoOptional<T> {
    /// The field's value.
    fn into_optional(self) -> Option<T>;
}

impl<T> IntoOptional<T> for T {
    fn into_optional(self) -> Option<T> {
        Some(self)
    }
}

impl<T> IntoOptional<T> for Option<T> {
    fn into_optional(self) -> Option<T> {
        self
    }
}

impl IntoOptional<String> for &str {
    fn into_optional(self) -> Option<String> {
        Some(self.to_string())
    }
}

impl IntoOptional<String> for &String {
    fn into_optional(self) -> Option<String> {
        Some(self.clone())
    }
}

impl IntoOptional<String> for Box<str> {
    fn into_optional(self) -> Option<String> {
        Some(self.into())
    }
}

impl IntoOptional<String> for Cow<'_, str> {
    fn into_optional(self) -> Option<String> {
        Some(self.into_owned())
    }
}
