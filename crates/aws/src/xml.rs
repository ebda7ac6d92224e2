//! A tiny extractor for the leaf elements of STS query-protocol responses.
//!
//! STS answers with a small, fixed XML document (`…Result/Credentials/{AccessKeyId,
//! SecretAccessKey,SessionToken,Expiration}` or `ErrorResponse/Error/{Code,Message}`).
//! Reading five known leaf elements does not justify a general XML parser as a new
//! dependency (and `serde` XML crates would add more), so this module finds an element by
//! name, returns its text and decodes the five predefined entities and character
//! references. It does not validate the document; it rejects what it cannot read
//! (unterminated elements, nested markup inside a leaf, unknown entities) with an error
//! instead of guessing.

/// The inner text of the first element named `name` in `doc`, if there is one.
/// Elements with attributes (`<Name attr="…">`) match; self-closing `<Name/>` is empty.
pub(crate) fn element<'a>(doc: &'a str, name: &str) -> Result<Option<&'a str>, String> {
    let open = format!("<{name}");
    let mut from = 0;
    while let Some(pos) = doc[from..].find(&open) {
        let start = from + pos;
        let after = start + open.len();
        let Some(next) = doc[after..].chars().next() else {
            return Err(format!("document ends inside <{name}>"));
        };
        if next == '>' || next == '/' || next.is_ascii_whitespace() {
            let Some(gt) = doc[after..].find('>') else {
                return Err(format!("start tag <{name}> is not closed"));
            };
            let tag_end = after + gt;
            if doc[..tag_end].ends_with('/') {
                return Ok(Some(""));
            }
            let content_start = tag_end + 1;
            let close = format!("</{name}>");
            let Some(end) = doc[content_start..].find(&close) else {
                return Err(format!("element <{name}> has no closing </{name}>"));
            };
            return Ok(Some(&doc[content_start..content_start + end]));
        }
        // A longer name with the same prefix (`<Credentials` vs `<CredentialsX`).
        from = after;
    }
    Ok(None)
}

/// The decoded text of a leaf element, or `None` if absent.
pub(crate) fn leaf_text(doc: &str, name: &str) -> Result<Option<String>, String> {
    match element(doc, name)? {
        None => Ok(None),
        Some(raw) => decode_text(raw)
            .map(Some)
            .map_err(|e| format!("<{name}>: {e}")),
    }
}

/// Decodes the text content of a leaf element: entities and `<![CDATA[…]]>` sections.
pub(crate) fn decode_text(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find(['&', '<']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(cdata) = rest.strip_prefix("<![CDATA[") {
            let Some(end) = cdata.find("]]>") else {
                return Err("unterminated CDATA section".to_string());
            };
            out.push_str(&cdata[..end]);
            rest = &cdata[end + 3..];
            continue;
        }
        if rest.starts_with('<') {
            return Err("expected text, found nested markup".to_string());
        }
        let Some(semi) = rest.find(';') else {
            // At most 12 characters (not bytes: the reply is network input and may be any UTF-8).
            let shown = rest
                .char_indices()
                .nth(12)
                .map_or(rest, |(i, _)| &rest[..i]);
            return Err(format!("unterminated entity {shown:?}"));
        };
        let entity = &rest[1..semi];
        let ch = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                {
                    // from_str_radix/parse accept a leading sign, which XML does not.
                    hex.bytes()
                        .all(|b| b.is_ascii_hexdigit())
                        .then(|| u32::from_str_radix(hex, 16).ok())
                        .flatten()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.bytes()
                        .all(|b| b.is_ascii_digit())
                        .then(|| dec.parse::<u32>().ok())
                        .flatten()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity &{entity};"))?
            }
        };
        out.push(ch);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unterminated_entities_in_multibyte_text_are_errors_not_panics() {
        // Byte 12 of "&éééééé" falls inside a two-byte character.
        assert_eq!(
            decode_text("&éééééé and more"),
            Err("unterminated entity \"&éééééé and \"".to_string())
        );
        assert_eq!(
            decode_text("&é"),
            Err("unterminated entity \"&é\"".to_string())
        );
        // Signs are not part of XML character references.
        assert!(decode_text("&#x+41;").is_err());
        assert!(decode_text("&#+65;").is_err());
        assert_eq!(decode_text("&#x41;&#66;"), Ok("AB".to_string()));
    }

    #[test]
    fn finds_elements_with_attributes_and_skips_longer_names() {
        let doc = r#"<R xmlns="x"><CredentialsX>no</CredentialsX><Credentials a="1"><K>v</K></Credentials></R>"#;
        assert_eq!(element(doc, "Credentials").unwrap(), Some("<K>v</K>"));
        assert_eq!(element(doc, "Missing").unwrap(), None);
        assert_eq!(element("<a><E/></a>", "E").unwrap(), Some(""));
    }

    #[test]
    fn decodes_entities_and_cdata() {
        assert_eq!(
            decode_text("a&amp;b&lt;&gt;&quot;&apos;&#65;&#x42;<![CDATA[<x&y>]]>").unwrap(),
            "a&b<>\"'AB<x&y>"
        );
    }

    #[test]
    fn reports_unreadable_input() {
        assert!(element("<E>text", "E").unwrap_err().contains("</E>"));
        assert!(element("<E", "E").is_err());
        assert!(decode_text("a &bogus; b").unwrap_err().contains("&bogus;"));
        assert!(decode_text("a &amp b").is_err());
        assert!(decode_text("<b>x</b>").is_err());
        assert!(decode_text("&#xD800;").is_err());
        assert!(decode_text("<![CDATA[x").is_err());
    }
}
