//! Events (DSP0266 §13): the registry messages an event carries, the
//! `Event` resource a subscriber receives, and the `$filter` a Server-Sent
//! Events stream takes.
//!
//! Messages come from two DMTF registries: `SensorEvent` 1.0 for
//! threshold crossings, and `ResourceEvent` 1.3 for the rest (a resource
//! created, removed, changed, powered on or off, or its health changed).
//! Their texts are the registries' own.

use serde_json::{json, Value};

use crate::ApiError;

/// `ResourceEvent`, as its MessageIds name it.
pub const RESOURCE_EVENT: &str = "ResourceEvent.1.3";
/// `SensorEvent`, as its MessageIds name it.
pub const SENSOR_EVENT: &str = "SensorEvent.1.0";

/// One registry message: its key, text (`%1`...) and severity.
struct Definition {
    registry: &'static str,
    key: &'static str,
    text: &'static str,
    severity: &'static str,
}

const fn message(
    registry: &'static str,
    key: &'static str,
    text: &'static str,
    severity: &'static str,
) -> Definition {
    Definition {
        registry,
        key,
        text,
        severity,
    }
}

const DEFINITIONS: &[Definition] = &[
    message(RESOURCE_EVENT, "ResourceCreated", "The resource has been created successfully.", "OK"),
    message(RESOURCE_EVENT, "ResourceRemoved", "The resource has been removed successfully.", "OK"),
    message(RESOURCE_EVENT, "ResourceChanged", "One or more resource properties have changed.", "OK"),
    message(RESOURCE_EVENT, "ResourcePoweredOn", "The resource `%1` has powered on.", "OK"),
    message(RESOURCE_EVENT, "ResourcePoweredOff", "The resource `%1` has powered off.", "OK"),
    message(RESOURCE_EVENT, "ResourceStatusChangedOK", "The health of resource '%1' has changed to %2.", "OK"),
    message(RESOURCE_EVENT, "ResourceStatusChangedWarning", "The health of resource `%1` has changed to %2.", "Warning"),
    message(RESOURCE_EVENT, "ResourceStatusChangedCritical", "The health of resource `%1` has changed to %2.", "Critical"),
    message(RESOURCE_EVENT, "TestMessage", "Test message.", "OK"),
    message(SENSOR_EVENT, "ReadingAboveUpperCautionThreshold", "Sensor '%1' reading of %2 (%3) is above the %4 upper caution threshold.", "Warning"),
    message(SENSOR_EVENT, "ReadingAboveUpperCriticalThreshold", "Sensor '%1' reading of %2 (%3) is above the %4 upper critical threshold.", "Critical"),
    message(SENSOR_EVENT, "ReadingAboveUpperFatalThreshold", "Sensor '%1' reading of %2 (%3) is above the %4 upper fatal threshold.", "Critical"),
    message(SENSOR_EVENT, "ReadingBelowLowerCautionThreshold", "Sensor '%1' reading of %2 (%3) is below the %4 lower caution threshold.", "Warning"),
    message(SENSOR_EVENT, "ReadingBelowLowerCriticalThreshold", "Sensor '%1' reading of %2 (%3) is below the %4 lower critical threshold.", "Critical"),
    message(SENSOR_EVENT, "ReadingBelowLowerFatalThreshold", "Sensor '%1' reading of %2 (%3) is below the %4 lower fatal threshold.", "Critical"),
    message(SENSOR_EVENT, "ReadingBelowUpperCriticalThreshold", "Sensor '%1' reading of %2 (%3) is now below the %4 upper critical threshold but remains outside of normal range.", "Warning"),
    message(SENSOR_EVENT, "ReadingBelowUpperFatalThreshold", "Sensor '%1' reading of %2 (%3) is now below the %4 upper fatal threshold but remains outside of normal range.", "Critical"),
    message(SENSOR_EVENT, "ReadingAboveLowerCriticalThreshold", "Sensor '%1' reading of %2 (%3) is now above the %4 lower critical threshold but remains outside of normal range.", "Warning"),
    message(SENSOR_EVENT, "ReadingAboveLowerFatalThreshold", "Sensor '%1' reading of %2 (%3) is now above the %4 lower fatal threshold but remains outside of normal range.", "Critical"),
    message(SENSOR_EVENT, "SensorReadingNormalRange", "Sensor '%1' reading of %2 (%3) is within normal operating range.", "OK"),
];

fn definition(key: &str) -> Option<&'static Definition> {
    DEFINITIONS.iter().find(|d| d.key == key)
}

/// One event's message, before it has an ID and a time.
#[derive(Clone, Debug, PartialEq)]
pub struct EventMessage {
    /// The registry's prefix (`SensorEvent`), for filters.
    pub registry_prefix: &'static str,
    /// `SensorEvent.1.0.ReadingAboveUpperCriticalThreshold`.
    pub message_id: String,
    /// The text with its arguments.
    pub message: String,
    /// The arguments.
    pub args: Vec<String>,
    /// OK, Warning or Critical.
    pub severity: &'static str,
    /// The resource it is about (`@odata.id`).
    pub origin: String,
}

impl EventMessage {
    /// The message `key` (of either registry) with `args`, about `origin`;
    /// `None` for a key this service does not send.
    pub fn new(key: &str, args: Vec<String>, origin: &str) -> Option<Self> {
        let definition = definition(key)?;
        let mut text = definition.text.to_owned();
        for (i, arg) in args.iter().enumerate().rev() {
            text = text.replace(&format!("%{}", i + 1), arg);
        }
        Some(Self {
            registry_prefix: definition
                .registry
                .split('.')
                .next()
                .unwrap_or(definition.registry),
            message_id: format!("{}.{key}", definition.registry),
            message: text,
            args,
            severity: definition.severity,
            origin: origin.to_owned(),
        })
    }

    /// The record in an `Event`'s `Events` array.
    pub fn record(&self, event_id: u64, timestamp: &str) -> Value {
        json!({
            "EventId": event_id.to_string(),
            "EventTimestamp": timestamp,
            "MemberId": "0",
            "MessageId": self.message_id,
            "Message": self.message,
            "MessageArgs": self.args,
            "MessageSeverity": self.severity,
            "OriginOfCondition": { "@odata.id": self.origin },
        })
    }
}

/// The `Event` resource carrying one record (`context` is a push
/// subscription's `Context`).
pub fn event(event_id: u64, record: Value, context: Option<&str>) -> Value {
    let mut event = json!({
        "@odata.type": "#Event.v1_13_0.Event",
        "Id": event_id.to_string(),
        "Name": "Event",
        "Events": [record],
    });
    if let Some(context) = context {
        event["Context"] = json!(context);
    }
    event
}

/// The `SensorEvent` message of an IPMI threshold event (reading type 01h;
/// `offset` per IPMI v2.0 Table 42-2). An assertion says which threshold
/// was crossed; a deassertion that it is crossed back, so the reading is
/// one level nearer normal. `None` for the offsets no message names
/// (a lower threshold going high, an upper one going low).
pub fn threshold_message(offset: u8, asserted: bool) -> Option<&'static str> {
    Some(match (offset, asserted) {
        (0x00, true) => "ReadingBelowLowerCautionThreshold",
        (0x02, true) => "ReadingBelowLowerCriticalThreshold",
        (0x04, true) => "ReadingBelowLowerFatalThreshold",
        (0x07, true) => "ReadingAboveUpperCautionThreshold",
        (0x09, true) => "ReadingAboveUpperCriticalThreshold",
        (0x0B, true) => "ReadingAboveUpperFatalThreshold",
        (0x00 | 0x07, false) => "SensorReadingNormalRange",
        (0x02, false) => "ReadingAboveLowerCriticalThreshold",
        (0x04, false) => "ReadingAboveLowerFatalThreshold",
        (0x09, false) => "ReadingBelowUpperCriticalThreshold",
        (0x0B, false) => "ReadingBelowUpperFatalThreshold",
        _ => return None,
    })
}

/// A property an SSE `$filter` may test.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum FilterProperty {
    RegistryPrefix,
    MessageId,
    OriginResource,
}

/// An SSE stream's `$filter`: terms `Property eq 'value'`, joined by `and`
/// (binding first) and `or`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventFilter {
    /// Any one of these must hold whole; none at all passes everything.
    alternatives: Vec<Vec<(FilterProperty, String)>>,
}

impl EventFilter {
    /// Parses `$filter`'s value (already percent-decoded).
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::query_parameter_format(text, "$filter");
        let mut alternatives = Vec::new();
        for alternative in text.split(" or ") {
            let mut terms = Vec::new();
            for term in alternative.split(" and ") {
                let term = term.trim().trim_start_matches('(').trim_end_matches(')');
                let mut words = term.splitn(3, ' ');
                let (Some(property), Some("eq"), Some(value)) =
                    (words.next(), words.next(), words.next())
                else {
                    return Err(bad());
                };
                let property = match property {
                    "RegistryPrefix" => FilterProperty::RegistryPrefix,
                    "MessageId" => FilterProperty::MessageId,
                    "OriginResource" => FilterProperty::OriginResource,
                    _ => return Err(bad()),
                };
                let value = value
                    .trim()
                    .strip_prefix('\'')
                    .and_then(|v| v.strip_suffix('\''))
                    .ok_or_else(bad)?;
                terms.push((property, value.to_owned()));
            }
            alternatives.push(terms);
        }
        Ok(Self { alternatives })
    }

    /// Whether `message` passes.
    pub fn matches(&self, message: &EventMessage) -> bool {
        self.alternatives.is_empty()
            || self.alternatives.iter().any(|terms| {
                terms.iter().all(|(property, value)| match property {
                    FilterProperty::RegistryPrefix => message.registry_prefix == value,
                    FilterProperty::MessageId => {
                        message.message_id == *value
                            || message.message_id.rsplit('.').next() == Some(value.as_str())
                    }
                    FilterProperty::OriginResource => message.origin == *value,
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crossing() -> EventMessage {
        EventMessage::new(
            "ReadingAboveUpperCriticalThreshold",
            vec!["CPU0 Temp".into(), "97".into(), "Cel".into(), "95".into()],
            "/redfish/v1/Chassis/chassis/Sensors/temperature_CPU0_Temp",
        )
        .unwrap()
    }

    #[test]
    fn a_message_fills_in_its_registry_text() {
        let message = crossing();
        assert_eq!(
            message.message_id,
            "SensorEvent.1.0.ReadingAboveUpperCriticalThreshold"
        );
        assert_eq!(
            message.message,
            "Sensor 'CPU0 Temp' reading of 97 (Cel) is above the 95 upper critical threshold."
        );
        assert_eq!(message.severity, "Critical");
        assert_eq!(message.registry_prefix, "SensorEvent");
        let record = message.record(7, "2026-12-02T10:00:00+00:00");
        assert_eq!(record["EventId"], "7");
        assert_eq!(
            record["OriginOfCondition"]["@odata.id"],
            "/redfish/v1/Chassis/chassis/Sensors/temperature_CPU0_Temp"
        );
        assert!(EventMessage::new("NoSuchMessage", vec![], "/").is_none());
    }

    #[test]
    fn threshold_offsets_name_their_crossing() {
        assert_eq!(
            threshold_message(0x09, true),
            Some("ReadingAboveUpperCriticalThreshold")
        );
        assert_eq!(
            threshold_message(0x09, false),
            Some("ReadingBelowUpperCriticalThreshold")
        );
        assert_eq!(
            threshold_message(0x07, false),
            Some("SensorReadingNormalRange")
        );
        assert_eq!(threshold_message(0x01, true), None);
    }

    #[test]
    fn filters_take_registry_message_and_origin() {
        let message = crossing();
        let pass = |f: &str| EventFilter::parse(f).unwrap().matches(&message);
        assert!(pass("RegistryPrefix eq 'SensorEvent'"));
        assert!(!pass("RegistryPrefix eq 'ResourceEvent'"));
        assert!(pass(
            "RegistryPrefix eq 'ResourceEvent' or RegistryPrefix eq 'SensorEvent'"
        ));
        assert!(pass(
            "RegistryPrefix eq 'SensorEvent' and OriginResource eq '/redfish/v1/Chassis/chassis/Sensors/temperature_CPU0_Temp'"
        ));
        assert!(!pass(
            "RegistryPrefix eq 'SensorEvent' and OriginResource eq '/redfish/v1/Systems/system'"
        ));
        assert!(pass("MessageId eq 'ReadingAboveUpperCriticalThreshold'"));
        assert!(EventFilter::parse("Severity gt 'OK'").is_err());
        assert!(EventFilter::parse("RegistryPrefix eq SensorEvent").is_err());
        assert!(EventFilter::default().matches(&message));
    }

    #[test]
    fn every_message_here_is_its_published_registrys() {
        for definition in DEFINITIONS {
            let (prefix, major_minor) = definition.registry.split_once('.').expect("version");
            let registry = crate::registries::find(prefix).expect(prefix);
            assert!(
                registry.version.starts_with(major_minor),
                "{}",
                definition.registry
            );
            let published = registry.message(definition.key).expect(definition.key);
            assert_eq!(published["Message"], definition.text, "{}", definition.key);
            assert_eq!(
                published["MessageSeverity"], definition.severity,
                "{}",
                definition.key
            );
        }
    }
}
