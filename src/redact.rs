//! Redaction of secrets in text the client prints but did not write: the server's error messages
//! (a 401's `detailed_error` is `token=<the token>`), reply bodies and headers in `Debug` output.

use std::borrow::Cow;

/// What replaces a secret.
pub(crate) const HIDDEN: &str = "<redacted>";

/// Whether `c` ends a secret value in free text.
fn ends_value(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '&' | '"' | '\'' | ',' | ';' | ')' | ']' | '}' | '<' | '>'
        )
}

/// `text` with the values after `token=`, `Bearer ` and the password of a URL's user info
/// (`scheme://user:password@`) replaced by [`HIDDEN`]. Matching ignores ASCII case.
pub(crate) fn redact(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    // (start, end) of each secret value, in order, not overlapping.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let value_end = |from: usize| {
        text[from..]
            .char_indices()
            .find(|&(_, c)| ends_value(c))
            .map_or(text.len(), |(i, _)| from + i)
    };
    for marker in ["token=", "bearer "] {
        let mut at = 0;
        while let Some(i) = lower[at..].find(marker) {
            let start = at + i + marker.len();
            let end = value_end(start);
            if end > start {
                spans.push((start, end));
            }
            at = end.max(start);
        }
    }
    let mut at = 0;
    while let Some(i) = lower[at..].find("://") {
        let start = at + i + 3;
        let authority_end = text[start..]
            .find(|c: char| c == '/' || c == '?' || c == '#' || ends_value(c))
            .map_or(text.len(), |j| start + j);
        if let Some(userinfo_end) = text[start..authority_end].rfind('@').map(|j| start + j)
            && let Some(colon) = text[start..userinfo_end].find(':').map(|j| start + j)
            && userinfo_end > colon + 1
        {
            spans.push((colon + 1, userinfo_end));
        }
        at = start;
    }
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in spans {
        if start < last {
            continue;
        }
        out.push_str(&text[last..start]);
        out.push_str(HIDDEN);
        last = end;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

/// A URL with its password masked, for messages and `Debug`.
pub(crate) fn masked(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("[redacted]"));
            u.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) if url.contains('@') => "[redacted]".to_owned(),
        Err(_) => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn secrets_in_server_text_are_hidden() {
        for (text, want) in [
            ("token=abc123", "token=<redacted>"),
            (
                "Invalid or expired session, please login again.; token=k8s9d&x=1",
                "Invalid or expired session, please login again.; token=<redacted>&x=1",
            ),
            (
                "Authorization: Bearer eyJ.a.b done",
                "Authorization: Bearer <redacted> done",
            ),
            (
                "AUTHORIZATION: bearer xyz",
                "AUTHORIZATION: bearer <redacted>",
            ),
            (
                "see http://bob:hunter2@h:8065/api",
                "see http://bob:<redacted>@h:8065/api",
            ),
            (
                "http://bob@h/x and https://h/y",
                "http://bob@h/x and https://h/y",
            ),
            ("nothing here", "nothing here"),
            ("token=", "token="),
            ("ütoken=ä€ end", "ütoken=<redacted> end"),
        ] {
            assert_eq!(redact(text), want, "{text}");
        }
    }
}
