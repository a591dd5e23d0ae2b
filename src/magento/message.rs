//! Magento's error body, `{"message", "parameters", "errors"}`, and how its placeholders are
//! rendered. Magento sends the *template* (`"Invalid attribute %fieldName = %fieldValue."`)
//! and its parameters separately (see `docs/magento-rest.md`, "Errors"): positional `%1`,
//! `%2`… take the list's entries from the first, named `%name` take the object's values; a
//! named placeholder with a list (as price rows come back) takes the list's entries in order
//! of appearance.
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One message as Magento sends it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MagentoMessage {
    #[serde(default)]
    pub message: String,
    /// A list (positional) or an object (named); absent when the message has no placeholder.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub parameters: Value,
    /// Validation failures carry the detail here; `message` then says only "Validation Failed".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<MagentoMessage>,
}

impl MagentoMessage {
    pub fn new(message: impl Into<String>, parameters: Value) -> Self {
        Self {
            message: message.into(),
            parameters,
            errors: Vec::new(),
        }
    }

    /// The readable text: placeholders filled, then the nested `errors` joined after a colon.
    pub fn render(&self) -> String {
        let head = render_template(&self.message, &self.parameters);
        if self.errors.is_empty() {
            return head;
        }
        let mut out = format!("{}: ", head.trim_end_matches('.'));
        for (i, detail) in self.errors.iter().enumerate() {
            if out.len() >= MAX_RENDERED {
                break;
            }
            if i > 0 {
                out.push_str("; ");
            }
            out.push_str(&detail.render());
        }
        cap(out)
    }

    /// Reads a body that should be an error object; anything else (an HTML error page, a
    /// proxy's text) is kept as the message, trimmed, so the operator still sees it.
    pub fn from_body(body: &[u8]) -> Self {
        match serde_json::from_slice::<MagentoMessage>(body) {
            Ok(m) if !m.message.is_empty() || !m.errors.is_empty() => m,
            _ => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                let mut short: String = text.chars().take(300).collect();
                if short.len() < text.len() {
                    short.push('…');
                }
                Self::new(short, Value::Null)
            }
        }
    }
}

/// Fills `%1`… and `%name` placeholders; an unknown placeholder is left as written.
/// The longest rendered message (bytes, then `…`). A template can name one parameter many
/// times (`%1%1%1…`), so without a bound a 1 MiB answer could render to gigabytes; a message
/// meant for a person is never near this long.
pub const MAX_RENDERED: usize = 4096;

/// Cuts `s` to [`MAX_RENDERED`] bytes at a character boundary, marking the cut.
fn cap(mut s: String) -> String {
    if s.len() > MAX_RENDERED {
        let mut end = MAX_RENDERED;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

pub fn render_template(template: &str, parameters: &Value) -> String {
    let mut out = String::with_capacity(template.len().min(MAX_RENDERED) + 16);
    let mut in_order = 0usize;
    let mut rest = template;
    while let Some(pos) = rest.find('%') {
        if out.len() > MAX_RENDERED {
            return cap(out);
        }
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let len = after
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map(|(i, _)| i)
            .unwrap_or(after.len());
        let name = &after[..len];
        match lookup(name, parameters, &mut in_order) {
            Some(value) if !name.is_empty() => out.push_str(&value),
            _ => {
                out.push('%');
                out.push_str(name);
            }
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    cap(out)
}

fn lookup(name: &str, parameters: &Value, in_order: &mut usize) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    let value = match (name.parse::<usize>(), parameters) {
        (Ok(n), Value::Array(list)) if n >= 1 => list.get(n - 1),
        // `%0` has no zero-based twin (and `n - 1` would underflow).
        (Ok(n), Value::Object(map)) => map
            .get(name)
            .or_else(|| n.checked_sub(1).and_then(|i| map.get(&i.to_string()))),
        (Err(_), Value::Object(map)) => map.get(name),
        (Err(_), Value::Array(list)) => {
            let v = list.get(*in_order);
            *in_order += 1;
            v
        }
        _ => None,
    }?;
    Some(match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn positional_and_named_placeholders_are_filled() {
        assert_eq!(
            render_template(
                "Invalid product data: %1",
                &json!(["Invalid attribute set entity type"])
            ),
            "Invalid product data: Invalid attribute set entity type"
        );
        assert_eq!(
            render_template(
                "The consumer isn't authorized to access %resources.",
                &json!({"resources": "Magento_Sales::sales"})
            ),
            "The consumer isn't authorized to access Magento_Sales::sales."
        );
        assert_eq!(
            render_template(
                "Invalid attribute %fieldName = %fieldValue.",
                &json!(["SKU", "x-1"])
            ),
            "Invalid attribute SKU = x-1."
        );
        assert_eq!(
            render_template("100% sure %2", &json!(["a"])),
            "100% sure %2"
        );
    }

    #[test]
    fn validation_errors_are_appended_and_non_json_bodies_kept() {
        let m = MagentoMessage::from_body(
            br#"{"message":"Validation Failed","errors":[{"message":"\"%field\" can not be empty.","parameters":{"field":"sku"}}]}"#,
        );
        assert_eq!(m.render(), "Validation Failed: \"sku\" can not be empty.");
        let m = MagentoMessage::from_body(b"<html>502 Bad Gateway</html>");
        assert_eq!(m.render(), "<html>502 Bad Gateway</html>");
    }
}
