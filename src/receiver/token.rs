//! [`Token`]: a secret the receiver compares in constant time: a slash command's or an outgoing
//! webhook's token, or a secret of your own carried in an action's `context`.

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

/// A secret to check callbacks against. Its `Debug` hides the value; [`Token::matches`] compares
/// in constant time (for candidates of the same length: the length of a token is no secret).
#[derive(Clone)]
pub struct Token(SecretString);

impl Token {
    /// The token `value` (for a slash command or an outgoing webhook, the `token` that registering
    /// it returned).
    pub fn new(value: impl Into<String>) -> Self {
        Token(SecretString::from(value.into()))
    }

    /// Whether `candidate` is this token, compared in constant time.
    pub fn matches(&self, candidate: &str) -> bool {
        constant_time_eq(self.0.expose_secret().as_bytes(), candidate.as_bytes())
    }

    /// The value, for what must send it (keep it out of logs).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<hidden>)")
    }
}

/// `a == b` in time that depends on the lengths only.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_same_value_and_hides_it() {
        let token = Token::new("abcdefghijklmnopqrstuvwxyz");
        assert!(token.matches("abcdefghijklmnopqrstuvwxyz"));
        assert!(!token.matches("abcdefghijklmnopqrstuvwxyZ"));
        assert!(!token.matches("abc"));
        assert!(!token.matches(""));
        assert_eq!(format!("{token:?}"), "Token(<hidden>)");
    }
}
