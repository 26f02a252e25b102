//! Query parameters over Redfish (issue 18): `$expand`, `$select`, `$top`
//! and `$skip` with `Members@odata.nextLink`, driven with DMTF's `redfish`
//! library and curl; what the service does not support is refused as
//! DSP0266 says.

use rbmc_e2e::{
    redfish::{curl, message_id, redfish, url},
    Suite, PASSWORD, USER,
};
use serde_json::Value;

const SENSORS: &str = "/redfish/v1/Chassis/chassis/Sensors";

fn members(reply: &Value) -> Vec<Value> {
    reply["body"]["Members"]
        .as_array()
        .unwrap_or_else(|| panic!("no Members in {reply}"))
        .clone()
}

#[test]
fn expand_select_and_paging_answer_as_the_specification_says() {
    let suite = Suite::start();
    let plain = redfish(&suite, &["get", SENSORS]);
    let ids: Vec<String> = members(&plain)
        .iter()
        .map(|m| m["@odata.id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.len() >= 10, "{plain}");

    // `$expand=.`: the same members, each whole.
    let expanded = redfish(&suite, &["get", &format!("{SENSORS}?$expand=.")]);
    let whole = members(&expanded);
    assert_eq!(whole.len(), ids.len(), "{expanded}");
    for (member, id) in whole.iter().zip(&ids) {
        assert_eq!(member["@odata.id"], id.as_str(), "{member}");
        assert!(member["Reading"].is_number(), "{member}");
        assert_eq!(member["@odata.type"], "#Sensor.v1_13_0.Sensor", "{member}");
    }

    // `$top`/`$skip`: pages that follow `Members@odata.nextLink` to the
    // end give every member once, in order, and the count stays whole.
    let mut paged = Vec::new();
    let mut next = Some(format!("{SENSORS}?$top=4"));
    while let Some(link) = next.take() {
        let page = redfish(&suite, &["get", &link]);
        assert_eq!(page["body"]["Members@odata.count"], ids.len(), "{page}");
        let page_members = members(&page);
        assert!(page_members.len() <= 4, "{page}");
        paged.extend(
            page_members
                .iter()
                .map(|m| m["@odata.id"].as_str().unwrap().to_owned()),
        );
        next = page["body"]["Members@odata.nextLink"]
            .as_str()
            .map(str::to_owned);
        assert!(paged.len() <= ids.len(), "paging does not end: {page}");
    }
    assert_eq!(paged, ids);

    // `$select`: only those properties, and the `@odata` ones.
    let one = redfish(&suite, &["get", &format!("{}?$select=Reading", ids[0])]);
    let keys: Vec<&String> = one["body"].as_object().unwrap().keys().collect();
    assert!(
        keys.iter()
            .all(|k| k.starts_with("@odata.") || k.as_str() == "Reading"),
        "{one}"
    );
    assert!(one["body"]["Reading"].is_number(), "{one}");

    // `$expand=.($levels=2)` from the root reaches the systems' members.
    let root = redfish(&suite, &["get", "/redfish/v1?$expand=.($levels=2)"]);
    assert_eq!(
        root["body"]["Systems"]["Members"][0]["Id"], "system",
        "{root}"
    );
    // `~`: only what is under Links.
    let links = redfish(&suite, &["get", "/redfish/v1/Managers/bmc?$expand=~"]);
    assert_eq!(
        links["body"]["Links"]["ManagerForServers"][0]["Id"], "system",
        "{links}"
    );
    assert!(
        links["body"]["NetworkProtocol"]
            .as_object()
            .is_some_and(|o| o.len() == 1),
        "{links}"
    );
}

#[test]
fn unsupported_and_malformed_queries_are_refused_by_name() {
    let suite = Suite::start();
    let admin = format!("{USER}:{PASSWORD}");
    let get = |query: &str| {
        curl(&[
            "-g",
            "-u",
            &admin,
            &url(&suite, &format!("{SENSORS}?{query}")),
        ])
    };
    for (query, status, id) in [
        ("$filter=Id%20eq%201", 501, "QueryNotSupported"),
        ("$top=many", 400, "QueryParameterValueTypeError"),
        ("$expand=.($levels=9)", 400, "QueryParameterOutOfRange"),
        ("$expand=everything", 400, "QueryParameterValueFormatError"),
    ] {
        let (code, _, body) = get(query);
        assert_eq!(
            (code, message_id(&body)),
            (status, format!("Base.1.20.0.{id}")),
            "{query}: {body}"
        );
    }
    // A parameter without `$` is ignored.
    let (code, _, _) = get("only");
    assert_eq!(code, 200);
}
