//! A small JSON writer for the CLI's reports: objects keep insertion order,
//! numbers are finite or `null`.

use std::fmt::Write;

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    /// A number written with `decimals` digits after the point; non-finite
    /// numbers are written as `null`.
    Number {
        value: f64,
        decimals: usize,
    },
    Integer(i64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// A number with 3 decimals, or `null` for `None` or a non-finite value.
    pub fn number(value: Option<f64>) -> Json {
        match value {
            Some(value) if value.is_finite() => Json::Number { value, decimals: 3 },
            _ => Json::Null,
        }
    }

    /// An object from key/value pairs.
    pub fn object<const N: usize>(pairs: [(&str, Json); N]) -> Json {
        Json::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    /// Compact JSON text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Number { value, decimals } => {
                if value.is_finite() {
                    let text = format!("{value:.decimals$}");
                    // "-0.000" reads oddly; it is zero.
                    if text
                        .trim_start_matches('-')
                        .chars()
                        .all(|c| c == '0' || c == '.')
                    {
                        out.push_str(text.trim_start_matches('-'));
                    } else {
                        out.push_str(&text);
                    }
                } else {
                    out.push_str("null");
                }
            }
            Json::Integer(i) => {
                let _ = write!(out, "{i}");
            }
            Json::String(s) => write_string(out, s),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(pairs) => {
                out.push('{');
                for (i, (key, value)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_compact_json() {
        let value = Json::object([
            ("name", Json::String("a \"quoted\"\nname\u{1}".into())),
            ("n", Json::number(Some(-23.0004))),
            ("zero", Json::number(Some(-0.0001))),
            ("missing", Json::number(None)),
            ("inf", Json::number(Some(f64::NEG_INFINITY))),
            ("list", Json::Array(vec![Json::Integer(1), Json::Null])),
        ]);
        assert_eq!(
            value.to_text(),
            r#"{"name":"a \"quoted\"\nname\u0001","n":-23.000,"zero":0.000,"missing":null,"inf":null,"list":[1,null]}"#
        );
    }
}
