//! Query parameters (DSP0266 §7.3): which the service takes, what each
//! does to a response, and the refusals for the rest.
//!
//! - `$expand=.`, `*` or `~`, with `($levels=N)` up to [`MAX_LEVELS`]:
//!   which references the response carries whole ([`ExpandKind`]; the
//!   fetching is the daemon's, as it needs the owners).
//! - `$select=A,B`: only those properties (and the `@odata` ones).
//! - `$top=N`, `$skip=N`: a page of a collection's `Members`, with
//!   `Members@odata.nextLink` to the next one.
//!
//! Any other parameter that starts with `$` (`$filter`, `$count`...) is
//! refused with 501 QueryNotSupported; others are ignored, as the
//! specification asks.

use serde_json::{Map, Value};

use crate::ApiError;

/// The deepest `$levels` the service expands.
pub const MAX_LEVELS: u8 = 3;

/// Which references `$expand` fills in.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum ExpandKind {
    /// `.`: subordinate resources, not those under `Links`.
    Subordinate,
    /// `*`: every reference.
    All,
    /// `~`: only those under `Links`.
    Links,
}

impl ExpandKind {
    /// Whether a reference found (under `Links` or not) is expanded.
    pub fn takes(self, under_links: bool) -> bool {
        match self {
            Self::All => true,
            Self::Subordinate => !under_links,
            Self::Links => under_links,
        }
    }
}

/// `$expand`, parsed.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Expand {
    /// Which references.
    pub kind: ExpandKind,
    /// How many levels deep (1 to [`MAX_LEVELS`]).
    pub levels: u8,
}

/// A request's query, parsed.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Query {
    /// `$expand`, if asked.
    pub expand: Option<Expand>,
    /// `$select`'s properties (empty: all).
    pub select: Vec<String>,
    /// `$top`.
    pub top: Option<usize>,
    /// `$skip`.
    pub skip: usize,
}

/// `%XX` escapes decoded (and `+` as a space); `None` if malformed.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn count(value: &str, parameter: &str) -> Result<usize, ApiError> {
    value
        .parse()
        .map_err(|_| ApiError::query_parameter_type(value, parameter))
}

fn expand(value: &str) -> Result<Expand, ApiError> {
    let (kind, options) = match value.split_once('(') {
        Some((kind, rest)) => (
            kind,
            Some(
                rest.strip_suffix(')')
                    .ok_or_else(|| ApiError::query_parameter_format(value, "$expand"))?,
            ),
        ),
        None => (value, None),
    };
    let kind = match kind {
        "." => ExpandKind::Subordinate,
        "*" => ExpandKind::All,
        "~" => ExpandKind::Links,
        _ => return Err(ApiError::query_parameter_format(value, "$expand")),
    };
    let levels = match options {
        None => 1,
        Some(options) => {
            let levels = options
                .strip_prefix("$levels=")
                .ok_or_else(|| ApiError::query_parameter_format(value, "$expand"))?;
            let levels: u8 = levels
                .parse()
                .map_err(|_| ApiError::query_parameter_type(levels, "$levels"))?;
            if !(1..=MAX_LEVELS).contains(&levels) {
                return Err(ApiError::query_parameter_out_of_range(
                    &levels.to_string(),
                    "$levels",
                    &format!("1-{MAX_LEVELS}"),
                ));
            }
            levels
        }
    };
    Ok(Expand { kind, levels })
}

impl Query {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let mut query = Self::default();
        let Some(raw) = raw else {
            return Ok(query);
        };
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key =
                percent_decode(key).ok_or_else(|| ApiError::query_parameter_format(pair, key))?;
            let value = percent_decode(value)
                .ok_or_else(|| ApiError::query_parameter_format(value, &key))?;
            match key.as_str() {
                "$expand" => query.expand = Some(expand(&value)?),
                "$select" => {
                    query.select = value
                        .split(',')
                        .map(|p| p.trim().split('/').next().unwrap_or_default().to_owned())
                        .filter(|p| !p.is_empty())
                        .collect();
                    if query.select.is_empty() {
                        return Err(ApiError::query_parameter_format(&value, "$select"));
                    }
                }
                "$top" => query.top = Some(count(&value, "$top")?),
                "$skip" => query.skip = count(&value, "$skip")?,
                k if k.starts_with('$') => return Err(ApiError::query_not_supported()),
                _ => {}
            }
        }
        Ok(query)
    }

    /// Whether it changes the response at all.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Keeps one page of a collection's `Members` (`$skip`, then `$top`),
    /// with `Members@odata.nextLink` when more follow; `path` and the
    /// other parameters (`rest`, already encoded) make the link. A
    /// resource that is not a collection is left as it is.
    pub fn page(&self, resource: &mut Map<String, Value>, path: &str, rest: &str) {
        if self.top.is_none() && self.skip == 0 {
            return;
        }
        let Some(Value::Array(members)) = resource.get_mut("Members") else {
            return;
        };
        let total = members.len();
        let start = self.skip.min(total);
        let end = self
            .top
            .map_or(total, |top| start.saturating_add(top).min(total));
        let page: Vec<Value> = members.drain(start..end).collect();
        *members = page;
        if let (Some(top), true) = (self.top, end < total) {
            let mut link = format!("{path}?$skip={end}&$top={top}");
            if !rest.is_empty() {
                link.push('&');
                link.push_str(rest);
            }
            resource.insert("Members@odata.nextLink".into(), Value::String(link));
        }
    }

    /// Keeps only the `$select`ed properties (and every `@odata` one) of
    /// `resource`, or of each member of a collection.
    pub fn select(&self, resource: &mut Map<String, Value>) {
        if self.select.is_empty() {
            return;
        }
        let keep = |key: &str| key.starts_with("@odata.") || self.select.iter().any(|s| s == key);
        if let Some(Value::Array(members)) = resource.get_mut("Members") {
            for member in members.iter_mut() {
                if let Value::Object(member) = member {
                    member.retain(|key, _| keep(key));
                }
            }
            return;
        }
        resource.retain(|key, _| keep(key));
    }
}

/// The query's parameters other than `$top` and `$skip`, as they came,
/// for a next-page link.
pub fn other_parameters(raw: Option<&str>) -> String {
    raw.unwrap_or_default()
        .split('&')
        .filter(|p| {
            let key = p.split('=').next().unwrap_or_default();
            !p.is_empty() && !matches!(key, "$top" | "$skip" | "%24top" | "%24skip")
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn expand_takes_its_three_kinds_and_levels() {
        let q = Query::parse(Some("$expand=.")).unwrap();
        assert_eq!(
            q.expand,
            Some(Expand {
                kind: ExpandKind::Subordinate,
                levels: 1
            })
        );
        let q = Query::parse(Some("%24expand=*(%24levels%3D2)")).unwrap();
        assert_eq!(
            q.expand,
            Some(Expand {
                kind: ExpandKind::All,
                levels: 2
            })
        );
        let deep = Query::parse(Some("$expand=~($levels=9)")).unwrap_err();
        assert_eq!(deep.messages()[0].name, "QueryParameterOutOfRange");
        let bad = Query::parse(Some("$expand=x")).unwrap_err();
        assert_eq!(bad.messages()[0].name, "QueryParameterValueFormatError");
        assert!(ExpandKind::Subordinate.takes(false));
        assert!(!ExpandKind::Subordinate.takes(true));
        assert!(ExpandKind::Links.takes(true));
    }

    #[test]
    fn unknown_dollar_parameters_are_501_and_others_ignored() {
        assert_eq!(
            Query::parse(Some("$filter=Id eq 1")).unwrap_err().status(),
            501
        );
        assert!(Query::parse(Some("only&foo=bar")).unwrap().is_empty());
        assert_eq!(
            Query::parse(Some("$top=x")).unwrap_err().messages()[0].name,
            "QueryParameterValueTypeError"
        );
    }

    #[test]
    fn a_page_keeps_the_count_and_links_the_next() {
        let members: Vec<Value> = (0..5)
            .map(|i| json!({ "@odata.id": format!("/m/{i}") }))
            .collect();
        let collection = json!({ "@odata.id": "/c", "Members@odata.count": 5, "Members": members });
        let mut page = collection.as_object().unwrap().clone();
        let q = Query::parse(Some("$skip=1&$top=2&$select=Name")).unwrap();
        q.page(
            &mut page,
            "/c",
            &other_parameters(Some("$skip=1&$top=2&$select=Name")),
        );
        assert_eq!(
            page["Members"],
            json!([{ "@odata.id": "/m/1" }, { "@odata.id": "/m/2" }])
        );
        assert_eq!(page["Members@odata.count"], 5);
        assert_eq!(
            page["Members@odata.nextLink"],
            "/c?$skip=3&$top=2&$select=Name"
        );
        let mut last = collection.as_object().unwrap().clone();
        Query::parse(Some("$skip=4&$top=2"))
            .unwrap()
            .page(&mut last, "/c", "");
        assert_eq!(last["Members"].as_array().unwrap().len(), 1);
        assert!(last.get("Members@odata.nextLink").is_none());
        let mut beyond = collection.as_object().unwrap().clone();
        Query::parse(Some("$skip=9"))
            .unwrap()
            .page(&mut beyond, "/c", "");
        assert_eq!(beyond["Members"], json!([]));
    }

    #[test]
    fn select_keeps_the_named_and_the_odata_properties() {
        let mut resource = json!({
            "@odata.id": "/s", "@odata.type": "#S", "Name": "n", "Reading": 1, "Status": {}
        })
        .as_object()
        .unwrap()
        .clone();
        Query::parse(Some("$select=Reading,Status/Health"))
            .unwrap()
            .select(&mut resource);
        let keys: Vec<&str> = resource.keys().map(String::as_str).collect();
        assert_eq!(keys, ["@odata.id", "@odata.type", "Reading", "Status"]);
    }
}
