//! `$expand`: the references a response carries, fetched and put in place,
//! level by level (DSP0266 §7.3.1). Each referenced resource is read as a
//! GET by the same caller would read it (its own privilege check
//! included); one the caller may not read, or that fails, stays a
//! reference. The references of one level are fetched concurrently, and a
//! collection whose members come from one owner call (the sensors, the
//! accounts) has them prefetched in that one call.

use std::{collections::HashMap, future::Future, pin::Pin};

use futures_util::future::join_all;
use redfish_core::query::{Expand, ExpandKind};
use serde_json::Value;

/// Resources already read, by `@odata.id`.
pub type Prefetched = HashMap<String, Value>;

/// How `$expand` reads a referenced resource: as a GET by the request's
/// caller would (the routes implement it), `None` when there is none or
/// the caller may not read it.
pub trait Fetch: Sync {
    /// The resource at `path`.
    fn fetch<'a>(
        &'a self,
        path: &'a str,
    ) -> Pin<Box<dyn Future<Output = Option<Value>> + Send + 'a>>;
}

/// Whether `value` is a bare reference: `{"@odata.id": ...}` alone.
fn reference(value: &Value) -> Option<&str> {
    let object = value.as_object()?;
    if object.len() != 1 {
        return None;
    }
    object.get("@odata.id")?.as_str()
}

/// Properties whose references are never expanded: annotations and
/// actions.
fn skipped(key: &str) -> bool {
    key.contains('@') || key == "Actions"
}

/// The references in `value` that `kind` expands.
fn references(value: &Value, kind: ExpandKind, under_links: bool, found: &mut Vec<String>) {
    if let Some(path) = reference(value) {
        if kind.takes(under_links) && !found.iter().any(|p| p == path) {
            found.push(path.to_owned());
        }
        return;
    }
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter().filter(|(k, _)| !skipped(k)) {
                references(child, kind, under_links || key == "Links", found);
            }
        }
        Value::Array(items) => {
            for item in items {
                references(item, kind, under_links, found);
            }
        }
        _ => {}
    }
}

/// Puts each fetched resource in place of its reference.
fn replace(value: &mut Value, kind: ExpandKind, under_links: bool, fetched: &Prefetched) {
    if let Some(path) = reference(value) {
        if kind.takes(under_links) {
            if let Some(body) = fetched.get(path) {
                *value = body.clone();
            }
        }
        return;
    }
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                if !skipped(key) {
                    let links = under_links || key == "Links";
                    replace(child, kind, links, fetched);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                replace(item, kind, under_links, fetched);
            }
        }
        _ => {}
    }
}

/// Expands `body` (a response's JSON) as `expand` asks.
pub fn expand<'a>(
    fetcher: &'a dyn Fetch,
    body: &'a mut Value,
    expand_query: Expand,
    prefetched: &'a Prefetched,
) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
    Box::pin(async move {
        let mut paths = Vec::new();
        references(body, expand_query.kind, false, &mut paths);
        let reads = paths.into_iter().map(|path| async move {
            let body = match prefetched.get(&path) {
                Some(body) => Some(body.clone()),
                None => fetcher.fetch(&path).await,
            };
            (path, body)
        });
        let mut fetched: Prefetched = join_all(reads)
            .await
            .into_iter()
            .filter_map(|(path, body)| Some((path, body?)))
            .collect();
        if expand_query.levels > 1 {
            let deeper = Expand {
                kind: expand_query.kind,
                levels: expand_query.levels - 1,
            };
            for child in fetched.values_mut() {
                expand(fetcher, child, deeper, prefetched).await;
            }
        }
        replace(body, expand_query.kind, false, &fetched);
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample() -> Value {
        json!({
            "@odata.id": "/c",
            "Members": [{ "@odata.id": "/c/1" }, { "@odata.id": "/c/2" }],
            "Thermal": { "@odata.id": "/t" },
            "Links": { "ManagedBy": [{ "@odata.id": "/m" }] },
            "Actions": { "#X.Y": { "target": "/c/Actions/X.Y" } },
            "Status": { "Health": "OK" },
        })
    }

    #[test]
    fn each_kind_finds_its_references() {
        let found = |kind| {
            let mut found = Vec::new();
            references(&sample(), kind, false, &mut found);
            found.sort();
            found
        };
        assert_eq!(found(ExpandKind::Subordinate), ["/c/1", "/c/2", "/t"]);
        assert_eq!(found(ExpandKind::Links), ["/m"]);
        assert_eq!(found(ExpandKind::All), ["/c/1", "/c/2", "/m", "/t"]);
    }

    #[test]
    fn fetched_resources_take_their_references_places() {
        let mut body = sample();
        let fetched = Prefetched::from([
            (
                "/c/1".to_owned(),
                json!({ "@odata.id": "/c/1", "Reading": 1 }),
            ),
            ("/m".to_owned(), json!({ "@odata.id": "/m", "Name": "bmc" })),
        ]);
        replace(&mut body, ExpandKind::Subordinate, false, &fetched);
        assert_eq!(body["Members"][0]["Reading"], 1);
        // Not fetched: stays a reference; under Links: not for `.`.
        assert_eq!(body["Members"][1], json!({ "@odata.id": "/c/2" }));
        assert_eq!(body["Links"]["ManagedBy"][0], json!({ "@odata.id": "/m" }));
    }
}
