//! DMTF's message registries, as this service publishes them at
//! `/redfish/v1/Registries`: Base (the messages of error and success
//! bodies), ResourceEvent and SensorEvent (the messages events carry).
//!
//! Each registry is DMTF's own, message for message (`registries/*.json`
//! beside this crate), so a client can look up any `MessageId` the service
//! sends; the tests in [`crate::error`] and [`crate::events`] hold every
//! message this service uses to its registry's text, severity and
//! argument count.

use serde_json::{json, Value};

/// One registry: its prefix, full version, and DMTF's JSON.
pub struct Registry {
    /// `Base`, as MessageIds begin.
    pub prefix: &'static str,
    /// `1.20.0`.
    pub version: &'static str,
    json: &'static str,
}

/// The registries the service publishes.
pub const REGISTRIES: &[Registry] = &[
    Registry {
        prefix: "Base",
        version: "1.20.0",
        json: include_str!("../registries/Base.1.20.0.json"),
    },
    Registry {
        prefix: "ResourceEvent",
        version: "1.3.0",
        json: include_str!("../registries/ResourceEvent.1.3.0.json"),
    },
    Registry {
        prefix: "SensorEvent",
        version: "1.0.1",
        json: include_str!("../registries/SensorEvent.1.0.1.json"),
    },
];

const COLLECTION: &str = "/redfish/v1/Registries";

/// The registry whose prefix is `prefix`.
pub fn find(prefix: &str) -> Option<&'static Registry> {
    REGISTRIES.iter().find(|r| r.prefix == prefix)
}

/// `GET /redfish/v1/Registries`.
pub fn collection() -> Value {
    let members: Vec<Value> = REGISTRIES
        .iter()
        .map(|r| json!({ "@odata.id": r.file_uri() }))
        .collect();
    json!({
        "@odata.id": COLLECTION,
        "@odata.type": "#MessageRegistryFileCollection.MessageRegistryFileCollection",
        "Name": "Registry File Collection",
        "Members@odata.count": members.len(),
        "Members": members,
    })
}

impl Registry {
    /// Where its `MessageRegistryFile` is.
    pub fn file_uri(&self) -> String {
        format!("{COLLECTION}/{}", self.prefix)
    }

    /// Where the registry itself is served.
    pub fn uri(&self) -> String {
        format!("{COLLECTION}/{0}/{0}", self.prefix)
    }

    /// `Base.1.20`: the name and major and minor version, as
    /// `MessageRegistryFile.Registry` gives it.
    fn major_minor(&self) -> String {
        let minor_end = self.version.rfind('.').unwrap_or(self.version.len());
        format!("{}.{}", self.prefix, &self.version[..minor_end])
    }

    /// Its `MessageRegistryFile`: which registry, in which language, and
    /// where it is (here, and DMTF's published copy).
    pub fn file(&self) -> Value {
        json!({
            "@odata.id": self.file_uri(),
            "@odata.type": "#MessageRegistryFile.v1_1_5.MessageRegistryFile",
            "Id": self.prefix,
            "Name": format!("{} Message Registry File", self.prefix),
            "Description": format!("DMTF {} Message Registry File Location", self.prefix),
            "Registry": self.major_minor(),
            "Languages": ["en"],
            "Location": [{
                "Language": "en",
                "Uri": self.uri(),
                "PublicationUri": format!(
                    "https://redfish.dmtf.org/registries/{}.{}.json",
                    self.prefix, self.version
                ),
            }],
        })
    }

    /// The registry itself, as DMTF publishes it, with its `@odata.id`
    /// here.
    pub fn registry(&self) -> Value {
        let mut registry: Value =
            serde_json::from_str(self.json).unwrap_or_else(|_| json!({ "Messages": {} }));
        registry["@odata.id"] = json!(self.uri());
        registry
    }

    /// One message's definition (`None` if the registry has no such key).
    pub fn message(&self, key: &str) -> Option<Value> {
        let registry: Value = serde_json::from_str(self.json).ok()?;
        registry["Messages"].get(key).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_registry_parses_and_names_itself() {
        for registry in REGISTRIES {
            let body: Value = serde_json::from_str(registry.json).expect(registry.prefix);
            assert_eq!(body["RegistryPrefix"], registry.prefix);
            assert_eq!(body["RegistryVersion"], registry.version);
            assert_eq!(
                body["Id"],
                format!("{}.{}", registry.prefix, registry.version)
            );
            let messages = body["Messages"].as_object().expect("Messages");
            assert!(!messages.is_empty());
            for (key, message) in messages {
                let args = message["NumberOfArgs"].as_u64().expect(key);
                let types = message["ParamTypes"].as_array().map_or(0, Vec::len);
                assert_eq!(types as u64, args, "{}.{key}", registry.prefix);
            }
        }
    }

    #[test]
    fn a_file_points_at_the_served_registry() {
        let file = find("Base").expect("Base").file();
        assert_eq!(file["Registry"], "Base.1.20");
        assert_eq!(
            file["Location"][0]["Uri"],
            "/redfish/v1/Registries/Base/Base"
        );
        assert_eq!(collection()["Members@odata.count"], 3);
        assert!(find("Nope").is_none());
    }
}
