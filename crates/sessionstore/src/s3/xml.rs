//! Just enough XML for S3's flat response documents: the text of `<Name>…</Name>` elements,
//! entity-decoded. S3 responses never nest an element inside one of the same name, which is
//! what makes this small reader sufficient; anything unexpected yields "absent", never a panic.

/// The inner text of each `<name>` element, in document order (not decoded).
pub fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        // `<Name>`, `<Name attr…>` or `<Name/>`; `<NameOther>` is another element.
        if !after.starts_with(['>', ' ', '/', '\t', '\n', '\r']) {
            rest = after;
            continue;
        }
        let Some(gt) = after.find('>') else { break };
        if after[..gt].ends_with('/') {
            out.push("");
            rest = &after[gt + 1..];
            continue;
        }
        let body = &after[gt + 1..];
        let Some(end) = body.find(&close) else { break };
        out.push(&body[..end]);
        rest = &body[end + close.len()..];
    }
    out
}

/// The decoded text of the first `<name>` element.
pub fn text(xml: &str, name: &str) -> Option<String> {
    elements(xml, name).first().map(|t| decode(t))
}

/// Replaces the five predefined entities and numeric character references.
pub fn decode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let Some(semi) = tail.find(';').filter(|&i| i <= 10) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..semi];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Escapes text for an element body.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_list_parts() {
        let x = r#"<?xml version="1.0"?><ListPartsResult xmlns="x"><UploadId>u&amp;1</UploadId><Part><PartNumber>1</PartNumber><ETag>&quot;aa&quot;</ETag><Size>5</Size></Part><Part><PartNumber>2</PartNumber><ETag>"bb"</ETag><Size>3</Size></Part><IsTruncated>false</IsTruncated></ListPartsResult>"#;
        assert_eq!(text(x, "UploadId").as_deref(), Some("u&1"));
        let parts = elements(x, "Part");
        assert_eq!(parts.len(), 2);
        assert_eq!(text(parts[0], "ETag").as_deref(), Some("\"aa\""));
        assert_eq!(text(parts[1], "PartNumber").as_deref(), Some("2"));
        assert_eq!(elements(x, "ListPartsResult").len(), 1);
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for x in [
            "<A>",
            "<A>&#xFFFFFFFF;</A>",
            "<A>&",
            "<A/>",
            "</A><A>",
            "<A>é&#233;</A>",
        ] {
            let _ = text(x, "A");
        }
        assert_eq!(text("<A>é&#233;</A>", "A").as_deref(), Some("éé"));
        assert_eq!(text("<A/>", "A").as_deref(), Some(""));
    }
}
